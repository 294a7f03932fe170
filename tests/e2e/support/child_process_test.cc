#include "tests/e2e/support/child_process.h"

#include <signal.h>
#include <sys/wait.h>

#include <cerrno>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bnmlp::testing {
namespace {

using ::testing::HasSubstr;

TEST(SpawnChildTest, ReturnsTheExitStatusOfTheChild) {
  absl::StatusOr<pid_t> pid = SpawnChild({"sh", "-c", "exit 7"}, {});
  ASSERT_TRUE(pid.ok()) << pid.status();
  absl::StatusOr<int> wait_status = WaitForChild(*pid, absl::Seconds(30));
  ASSERT_TRUE(wait_status.ok()) << wait_status.status();
  ASSERT_TRUE(WIFEXITED(*wait_status));
  EXPECT_EQ(WEXITSTATUS(*wait_status), 7);
  EXPECT_EQ(DescribeWaitStatus(*wait_status), "exit code 7");
}

TEST(SpawnChildTest, MissingBinaryIsNotFoundAndNamesIt) {
  absl::StatusOr<pid_t> pid = SpawnChild({"/nonexistent/bnmlp-nothing"}, {});
  ASSERT_FALSE(pid.ok());
  EXPECT_EQ(pid.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(pid.status().message(), HasSubstr("/nonexistent/bnmlp-nothing"));
}

TEST(SpawnChildTest, EmptyArgvIsInvalid) {
  EXPECT_EQ(SpawnChild({}, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(WaitForChildTest, KillsAndReapsAChildThatOutlivesTheTimeout) {
  absl::StatusOr<pid_t> pid = SpawnChild({"sleep", "60"}, {});
  ASSERT_TRUE(pid.ok()) << pid.status();
  absl::StatusOr<int> wait_status = WaitForChild(*pid, absl::Milliseconds(50));
  EXPECT_EQ(wait_status.status().code(), absl::StatusCode::kDeadlineExceeded);
  // Reaped: the pid no longer names a process of ours.
  EXPECT_EQ(kill(*pid, 0), -1);
  EXPECT_EQ(errno, ESRCH);
}

TEST(ReapIfExitedTest, ReportsRunningThenExited) {
  absl::StatusOr<pid_t> pid = SpawnChild({"sleep", "60"}, {});
  ASSERT_TRUE(pid.ok()) << pid.status();
  int wait_status = 0;
  absl::StatusOr<bool> exited = ReapIfExited(*pid, &wait_status);
  ASSERT_TRUE(exited.ok()) << exited.status();
  EXPECT_FALSE(*exited);
  ASSERT_EQ(kill(*pid, SIGTERM), 0);
  absl::StatusOr<int> final_status = WaitForChild(*pid, absl::Seconds(30));
  ASSERT_TRUE(final_status.ok()) << final_status.status();
  ASSERT_TRUE(WIFSIGNALED(*final_status));
  EXPECT_EQ(WTERMSIG(*final_status), SIGTERM);
  EXPECT_THAT(DescribeWaitStatus(*final_status), HasSubstr("signal 15"));
}

}  // namespace
}  // namespace bnmlp::testing
