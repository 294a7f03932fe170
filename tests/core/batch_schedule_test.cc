#include "core/batch_schedule.h"

#include <algorithm>
#include <numeric>

#include "gtest/gtest.h"

namespace bnmlp {
namespace {

std::vector<int64_t> Sizes(const BatchSchedule& s) {
  std::vector<int64_t> sizes;
  for (int64_t i = 0; i < s.num_batches(); ++i)
    sizes.push_back(s.end(i) - s.begin(i));
  return sizes;
}

TEST(BatchScheduleTest, CutsAnEpochIntoBatchesInOrder) {
  const BatchSchedule s(10, 4);
  EXPECT_EQ(Sizes(s), (std::vector<int64_t>{4, 4, 2}));
  EXPECT_EQ(s.begin(2), 8);
  EXPECT_EQ(s.end(2), 10);
  EXPECT_EQ(s.largest_batch(), 4);
}

TEST(BatchScheduleTest, NeverLeavesALastBatchOfOne) {
  const BatchSchedule s(9, 4);  // 4, 4, 1 -> 4, 5
  EXPECT_EQ(Sizes(s), (std::vector<int64_t>{4, 5}));
  EXPECT_EQ(s.largest_batch(), 5);
  for (int64_t n = 2; n < 300; ++n) {
    for (int64_t b = 2; b < 20; ++b) {
      const std::vector<int64_t> sizes = Sizes(BatchSchedule(n, b));
      EXPECT_EQ(std::accumulate(sizes.begin(), sizes.end(), int64_t{0}), n);
      EXPECT_GE(*std::min_element(sizes.begin(), sizes.end()), 2)
          << "n=" << n << " batch=" << b;
    }
  }
}

TEST(BatchScheduleTest, ABatchLargerThanTheSetIsTheWholeSet) {
  EXPECT_EQ(Sizes(BatchSchedule(7, 1000)), (std::vector<int64_t>{7}));
}

TEST(ShufflerTest, GivesSeededPermutationsThatChangeEachEpoch) {
  Shuffler a(100, 5), b(100, 5), c(100, 6);
  const std::vector<int64_t> first = a.NextEpoch();
  EXPECT_EQ(first, b.NextEpoch());
  EXPECT_NE(first, c.NextEpoch());
  std::vector<int64_t> sorted = first;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> identity(100);
  std::iota(identity.begin(), identity.end(), 0);
  EXPECT_EQ(sorted, identity);
  EXPECT_NE(first, identity);
  EXPECT_NE(a.NextEpoch(), first);
}

}  // namespace
}  // namespace bnmlp
