#include "server/process_limits.h"

#include <sys/resource.h>

#include "gtest/gtest.h"

namespace bnmlp {
namespace {

TEST(RaiseDescriptorLimitToHardTest, SoftLimitEndsAtTheHardLimit) {
  rlimit before{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &before), 0);
  // Start below the hard limit, as a distribution's default soft 1024 does.
  if (before.rlim_max > 64) {
    rlimit lowered = before;
    lowered.rlim_cur = 64;
    ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &lowered), 0);
  }
  absl::StatusOr<DescriptorLimit> limit = RaiseDescriptorLimitToHard();
  ASSERT_TRUE(limit.ok()) << limit.status();
  rlimit after{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &after), 0);
  EXPECT_EQ(after.rlim_cur, before.rlim_max);
  EXPECT_EQ(limit->soft, static_cast<uint64_t>(after.rlim_cur));
  EXPECT_EQ(limit->hard, static_cast<uint64_t>(after.rlim_max));
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &before), 0);
}

}  // namespace
}  // namespace bnmlp
