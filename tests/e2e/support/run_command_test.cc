#include "tests/e2e/support/run_command.h"

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bnmlp::testing {
namespace {

using ::testing::HasSubstr;

TEST(RunCommandTest, CapturesStdoutStderrAndExitCode) {
  absl::StatusOr<CommandResult> result =
      RunCommand({"sh", "-c", "echo out; echo err >&2; exit 3"});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_code, 3);
  EXPECT_EQ(result->stdout_text, "out\n");
  EXPECT_EQ(result->stderr_text, "err\n");
}

TEST(RunCommandTest, FeedsStdin) {
  absl::StatusOr<CommandResult> result = RunCommand({"cat"}, "hello\nworld\n");
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_code, 0);
  EXPECT_EQ(result->stdout_text, "hello\nworld\n");
}

TEST(RunCommandTest, PassesArgumentsWithoutAShell) {
  absl::StatusOr<CommandResult> result =
      RunCommand({"printf", "%s|", "a b", "$HOME", "*"});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->stdout_text, "a b|$HOME|*|");
}

// Larger than any pipe buffer in both directions at once: a naive
// write-then-read would deadlock.
TEST(RunCommandTest, StreamsLargeInputAndOutputWithoutDeadlock) {
  const std::string input(4 << 20, 'x');
  absl::StatusOr<CommandResult> result = RunCommand({"cat"}, input);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->stdout_text.size(), input.size());
  EXPECT_EQ(result->stdout_text, input);
}

TEST(RunCommandTest, ChildIgnoringItsStdinDoesNotKillTheCaller) {
  const std::string input(1 << 20, 'x');
  absl::StatusOr<CommandResult> result = RunCommand({"true"}, input);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_code, 0);
}

TEST(RunCommandTest, KillsACommandThatRunsPastTheTimeout) {
  absl::StatusOr<CommandResult> result = RunCommand(
      {"sh", "-c", "echo started; exec sleep 60"}, "", absl::Milliseconds(300));
  ASSERT_EQ(result.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(result.status().message(), HasSubstr("started"));
}

TEST(RunCommandTest, ReportsDeathBySignalAs128PlusSignal) {
  absl::StatusOr<CommandResult> result = RunCommand({"sh", "-c", "kill -9 $$"});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_code, 128 + 9);
}

TEST(RunCommandTest, MissingBinaryIsAnErrorNamingIt) {
  absl::StatusOr<CommandResult> result = RunCommand({"bnmlp-no-such-tool"});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(result.status().message(), HasSubstr("bnmlp-no-such-tool"));
}

}  // namespace
}  // namespace bnmlp::testing
