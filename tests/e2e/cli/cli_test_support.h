// What the CLI's end-to-end tests share: the exit codes README.md
// documents, a fixture that starts a real bnmlp-server for each test and
// runs the real `bnmlp` against it, and readers of its output.
#ifndef BNMLP_TESTS_E2E_CLI_CLI_TEST_SUPPORT_H_
#define BNMLP_TESTS_E2E_CLI_CLI_TEST_SUPPORT_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/client/test_files.h"
#include "tests/e2e/support/run_command.h"
#include "tests/e2e/support/server_process.h"

namespace bnmlp::cli_testing {

// Exit codes documented in README.md.
inline constexpr int kRpcError = 1;
inline constexpr int kUsage = 2;
inline constexpr int kUnreachable = 3;
inline constexpr int kInputError = 4;
inline constexpr int kInterrupted = 130;

// The exit code and both outputs, for a failed expectation's message.
std::string Describe(const testing::CommandResult& result);

// `json` (one message, as the CLI's --json prints it) parsed as `Message`;
// a parse error fails the current test.
template <typename Message>
Message ParseJson(const std::string& json) {
  Message message;
  const auto status = google::protobuf::util::JsonStringToMessage(
      std::string(absl::StripAsciiWhitespace(json)), &message);
  EXPECT_TRUE(status.ok()) << status.ToString() << " in: " << json;
  return message;
}

// The non-empty lines of `text`.
std::vector<std::string> Lines(const std::string& text);

// Everything `fd` yields until its end.
std::string ReadAll(int fd);

// Reads `fd` until `done(what was read)` holds; returns what was read, or
// "" if `fd` ended or `timeout` passed first.
std::string ReadUntil(int fd,
                      const std::function<bool(const std::string&)>& done,
                      absl::Duration timeout);

// A bnmlp-server of its own for each test, and `bnmlp` run against it.
class CliTest : public ::testing::Test {
 protected:
  void SetUp() override;

  // The flags the server starts with (none: its defaults).
  virtual std::vector<std::string> ServerFlags() const { return {}; }

  // Runs `bnmlp --server <the server> args...`.
  testing::CommandResult Bnmlp(std::vector<std::string> args,
                               const std::string& stdin_text = "");

  // Creates `name` with `layers`, failing the test on error.
  void Create(const std::string& name, const std::string& layers,
              std::vector<std::string> extra = {});

  client_testing::TempDir dir_;
  std::unique_ptr<testing::ServerProcess> server_;
};

}  // namespace bnmlp::cli_testing

#endif  // BNMLP_TESTS_E2E_CLI_CLI_TEST_SUPPORT_H_
