#include "tests/e2e/cli/cli_test_support.h"

#include <poll.h>
#include <unistd.h>

#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

namespace bnmlp::cli_testing {

using ::bnmlp::testing::BnmlpCliPath;
using ::bnmlp::testing::CommandResult;
using ::bnmlp::testing::RunCommand;
using ::bnmlp::testing::ServerProcess;

std::string Describe(const CommandResult& result) {
  return absl::StrCat("exit ", result.exit_code, "\n--- stdout:\n",
                      result.stdout_text, "--- stderr:\n", result.stderr_text);
}

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

std::string ReadAll(int fd) {
  std::string text;
  char buffer[4096];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof(buffer))) > 0) text.append(buffer, n);
  return text;
}

std::string ReadUntil(int fd,
                      const std::function<bool(const std::string&)>& done,
                      absl::Duration timeout) {
  std::string text;
  const absl::Time deadline = absl::Now() + timeout;
  while (!done(text)) {
    if (absl::Now() >= deadline) return "";
    pollfd poll_fd{fd, POLLIN, 0};
    if (poll(&poll_fd, 1, 100) <= 0) continue;
    char buffer[4096];
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n <= 0) return "";
    text.append(buffer, n);
  }
  return text;
}

void CliTest::SetUp() {
  absl::StatusOr<std::unique_ptr<ServerProcess>> server =
      ServerProcess::Start(ServerFlags());
  ASSERT_TRUE(server.ok()) << server.status();
  server_ = *std::move(server);
}

CommandResult CliTest::Bnmlp(std::vector<std::string> args,
                             const std::string& stdin_text) {
  std::vector<std::string> argv = {BnmlpCliPath(), "--server",
                                   server_->address()};
  argv.insert(argv.end(), args.begin(), args.end());
  absl::StatusOr<CommandResult> result = RunCommand(argv, stdin_text);
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? *result : CommandResult();
}

void CliTest::Create(const std::string& name, const std::string& layers,
                     std::vector<std::string> extra) {
  std::vector<std::string> args = {"create", "--name", name, "--layers",
                                   layers};
  args.insert(args.end(), extra.begin(), extra.end());
  const CommandResult result = Bnmlp(args);
  ASSERT_EQ(result.exit_code, 0) << Describe(result);
}

}  // namespace bnmlp::cli_testing
