#include "server/process_limits.h"

#include <malloc.h>
#include <sys/resource.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "common/sanitizer_build.h"
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

// glibc's allocator is what is tuned; sanitizer builds replace it with
// their own, which ignores mallopt, so the test exists where glibc serves.
#if !defined(BNMLP_ASAN) && !defined(BNMLP_TSAN)
TEST(ReturnLargeBlocksToTheSystemTest, BigBlocksAreMappedSmallerOnesKept) {
  constexpr int kMapped = 1 << 20;
  constexpr int kKept = 4 << 20;
  ReturnLargeBlocksToTheSystem(kMapped, kKept);

  // A block of kMapped or more is a mapping of its own, gone when freed.
  const size_t mapped_before = mallinfo2().hblkhd;
  auto big = std::make_unique<char[]>(2 * kMapped);
  std::memset(big.get(), 1, 2 * kMapped);
  EXPECT_GE(mallinfo2().hblkhd, mapped_before + 2 * kMapped);
  big.reset();
  EXPECT_EQ(mallinfo2().hblkhd, mapped_before);

  // Smaller blocks (a large Predict's request buffers) freed at the top of
  // the heap stay there for the next call: 2 MiB < kKept is not trimmed.
  std::vector<std::unique_ptr<char[]>> blocks;
  for (int i = 0; i < 4; ++i) {
    blocks.push_back(std::make_unique<char[]>(kMapped / 2));
    std::memset(blocks.back().get(), 1, kMapped / 2);
  }
  blocks.clear();
  EXPECT_GE(mallinfo2().keepcost, static_cast<size_t>(2 * kMapped));
}
#endif

}  // namespace
}  // namespace bnmlp
