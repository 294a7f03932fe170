#include "client/cli/sigint_watcher.h"

#include <signal.h>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace bnmlp::cli {
namespace {

TEST(SigintWatcherTest, RunsTheCallbackOnItsThreadAfterSigint) {
  absl::Notification called;
  auto watcher = SigintWatcher::Start([&called] { called.Notify(); });
  ASSERT_TRUE(watcher.ok()) << watcher.status();
  EXPECT_FALSE((*watcher)->interrupted());
  ASSERT_EQ(raise(SIGINT), 0);
  EXPECT_TRUE(called.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_TRUE((*watcher)->interrupted());
}

TEST(SigintWatcherTest, OnlyOneWatcherAtATime) {
  auto first = SigintWatcher::Start([] {});
  ASSERT_TRUE(first.ok());
  auto second = SigintWatcher::Start([] {});
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  first->reset();
  auto third = SigintWatcher::Start([] {});
  EXPECT_TRUE(third.ok()) << third.status();
}

TEST(SigintWatcherTest, RestoresThePreviousHandler) {
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction saved {};
  ASSERT_EQ(sigaction(SIGINT, &ignore, &saved), 0);
  {
    auto watcher = SigintWatcher::Start([] {});
    ASSERT_TRUE(watcher.ok());
    struct sigaction during {};
    sigaction(SIGINT, nullptr, &during);
    EXPECT_NE(during.sa_handler, SIG_IGN);
  }
  struct sigaction after {};
  sigaction(SIGINT, &saved, &after);
  EXPECT_EQ(after.sa_handler, SIG_IGN);
}

}  // namespace
}  // namespace bnmlp::cli
