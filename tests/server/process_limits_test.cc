#include "server/process_limits.h"

#include <sys/resource.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

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

// A fake /sys/fs/cgroup under the test's temporary directory.
class CgroupDir {
 public:
  explicit CgroupDir(const std::string& name)
      : root_(std::filesystem::path(std::getenv("TEST_TMPDIR") != nullptr
                                        ? std::getenv("TEST_TMPDIR")
                                        : ::testing::TempDir()) /
              ("cgroup_" + name)) {
    std::filesystem::remove_all(root_);
    std::filesystem::create_directories(root_ / "memory");
  }
  ~CgroupDir() { std::filesystem::remove_all(root_); }
  void Write(const std::string& file, const std::string& text) {
    std::ofstream(root_ / file) << text;
  }
  std::string root() const { return root_.string(); }

 private:
  std::filesystem::path root_;
};

TEST(MemoryLimitBytesTest, WithoutACgroupLimitThePhysicalMemory) {
  CgroupDir dir("none");
  EXPECT_EQ(MemoryLimitBytes(8000, dir.root()), 8000);
  dir.Write("memory.max", "max\n");
  EXPECT_EQ(MemoryLimitBytes(8000, dir.root()), 8000);
  // cgroup v1 says "no limit" with a huge number.
  dir.Write("memory/memory.limit_in_bytes", "9223372036854771712\n");
  EXPECT_EQ(MemoryLimitBytes(8000, dir.root()), 8000);
}

TEST(MemoryLimitBytesTest, ACgroupV2LimitBelowThePhysicalMemoryWins) {
  CgroupDir dir("v2");
  dir.Write("memory.max", "4096\n");
  EXPECT_EQ(MemoryLimitBytes(8000, dir.root()), 4096);
}

TEST(MemoryLimitBytesTest, ACgroupV1LimitBelowThePhysicalMemoryWins) {
  CgroupDir dir("v1");
  dir.Write("memory/memory.limit_in_bytes", "2048\n");
  EXPECT_EQ(MemoryLimitBytes(8000, dir.root()), 2048);
}

TEST(DefaultMaxMemoryBytesTest, IsMostOfWhatTheProcessMayUse) {
  const int64_t limit =
      MemoryLimitBytes(PhysicalMemoryBytes(), "/sys/fs/cgroup");
  EXPECT_GT(DefaultMaxMemoryBytes(), limit / 2);
  EXPECT_LT(DefaultMaxMemoryBytes(), limit);
}

}  // namespace
}  // namespace bnmlp
