#include "server/shutdown_signal.h"

#include <signal.h>
#include <unistd.h>

#include <thread>

#include "gtest/gtest.h"

namespace bnmlp {
namespace {

// One test: the handlers are process-wide and installed once.
TEST(ShutdownSignalTest, SignalsAreCaughtAndDeliveredToTheWaiter) {
  ASSERT_TRUE(InstallShutdownSignalHandlers().ok());
  EXPECT_EQ(InstallShutdownSignalHandlers().code(),
            absl::StatusCode::kFailedPrecondition);

  // Sent before anyone waits: kept, not lost, and not fatal.
  ASSERT_EQ(kill(getpid(), SIGTERM), 0);
  EXPECT_EQ(WaitForShutdownSignal(), SIGTERM);

  // Sent from another thread while the waiter blocks.
  std::thread sender([] { kill(getpid(), SIGINT); });
  EXPECT_EQ(WaitForShutdownSignal(), SIGINT);
  sender.join();
}

}  // namespace
}  // namespace bnmlp
