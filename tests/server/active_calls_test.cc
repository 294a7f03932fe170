#include "server/active_calls.h"

#include <optional>
#include <thread>

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace bnmlp {
namespace {

TEST(ActiveCallsTest, CountsScopes) {
  ActiveCalls calls;
  EXPECT_EQ(calls.count(), 0);
  {
    ActiveCalls::Scope first(calls);
    ActiveCalls::Scope second(calls);
    EXPECT_EQ(calls.count(), 2);
  }
  EXPECT_EQ(calls.count(), 0);
}

TEST(ActiveCallsTest, WaitUntilIdleReturnsWhenTheLastCallEnds) {
  ActiveCalls calls;
  EXPECT_TRUE(calls.WaitUntilIdle(absl::Now()));
  std::optional<ActiveCalls::Scope> call;
  call.emplace(calls);
  std::thread ender([&call] {
    absl::SleepFor(absl::Milliseconds(20));
    call.reset();
  });
  EXPECT_TRUE(calls.WaitUntilIdle(absl::Now() + absl::Seconds(60)));
  ender.join();
}

TEST(ActiveCallsTest, WaitUntilIdleGivesUpAtTheDeadline) {
  ActiveCalls calls;
  ActiveCalls::Scope call(calls);
  EXPECT_FALSE(calls.WaitUntilIdle(absl::Now() + absl::Milliseconds(10)));
}

}  // namespace
}  // namespace bnmlp
