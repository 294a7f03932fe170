#include "core/realloc_buffer.h"

#include <cstdint>
#include <limits>
#include <numeric>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bnmlp {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;

TEST(ReallocBufferTest, StartsEmpty) {
  ReallocBuffer<float> buffer;
  EXPECT_EQ(buffer.size(), 0);
  EXPECT_EQ(buffer.capacity(), 0);
  EXPECT_TRUE(buffer.span().empty());
}

TEST(ReallocBufferTest, AppendsKeepEveryValueInOrderAcrossGrowth) {
  ReallocBuffer<int32_t> buffer;
  std::vector<int32_t> expected;
  for (int round = 0; round < 200; ++round) {
    std::vector<int32_t> piece(static_cast<size_t>(round % 7 + 1));
    std::iota(piece.begin(), piece.end(), round * 10);
    ASSERT_TRUE(buffer.Append(piece).ok());
    expected.insert(expected.end(), piece.begin(), piece.end());
  }
  EXPECT_THAT(buffer.span(), ElementsAreArray(expected));
  EXPECT_GE(buffer.capacity(), buffer.size());
}

TEST(ReallocBufferTest, GrowsByHalfSoManySmallAppendsMoveRarely) {
  ReallocBuffer<float> buffer;
  int growths = 0;
  int64_t capacity = 0;
  const float value = 1.0f;
  for (int i = 0; i < 10000; ++i) {
    ASSERT_TRUE(buffer.Append(absl::MakeConstSpan(&value, 1)).ok());
    if (buffer.capacity() != capacity) {
      ++growths;
      capacity = buffer.capacity();
    }
  }
  // 1.5^22 > 10000: geometric growth, not one reallocation per append.
  EXPECT_LE(growths, 25);
}

TEST(ReallocBufferTest, ReserveAllocatesExactlyAndAppendsWithinItDoNotGrow) {
  ReallocBuffer<float> buffer;
  ASSERT_TRUE(buffer.Reserve(1000).ok());
  EXPECT_EQ(buffer.capacity(), 1000);
  const std::vector<float> values(1000, 2.5f);
  ASSERT_TRUE(buffer.Append(values).ok());
  EXPECT_EQ(buffer.capacity(), 1000);
  EXPECT_EQ(buffer.size(), 1000);
  ASSERT_TRUE(buffer.Reserve(10).ok());  // never shrinks
  EXPECT_EQ(buffer.capacity(), 1000);
}

TEST(ReallocBufferTest, ShrinkToFitKeepsTheValues) {
  ReallocBuffer<int32_t> buffer;
  ASSERT_TRUE(buffer.Reserve(100).ok());
  ASSERT_TRUE(buffer.Append(std::vector<int32_t>{4, 5, 6}).ok());
  buffer.ShrinkToFit();
  EXPECT_EQ(buffer.capacity(), 3);
  EXPECT_THAT(buffer.span(), ElementsAre(4, 5, 6));
}

TEST(ReallocBufferTest, MakeRoomThenAppendDoesNotGrowAgain) {
  ReallocBuffer<float> buffer;
  ASSERT_TRUE(buffer.MakeRoom(50).ok());
  const int64_t capacity = buffer.capacity();
  EXPECT_GE(capacity, 50);
  ASSERT_TRUE(buffer.Append(std::vector<float>(50, 1.0f)).ok());
  EXPECT_EQ(buffer.capacity(), capacity);
}

TEST(ReallocBufferTest, AnImpossibleSizeIsResourceExhaustedAndChangesNothing) {
  ReallocBuffer<float> buffer;
  ASSERT_TRUE(buffer.Append(std::vector<float>{1.0f, 2.0f}).ok());
  EXPECT_EQ(buffer.Reserve(std::numeric_limits<int64_t>::max()).code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(buffer.MakeRoom(std::numeric_limits<int64_t>::max()).code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(buffer.span(), ElementsAre(1.0f, 2.0f));
}

TEST(ReallocBufferTest, MovesOwnership) {
  ReallocBuffer<int32_t> a;
  ASSERT_TRUE(a.Append(std::vector<int32_t>{7, 8}).ok());
  ReallocBuffer<int32_t> b = std::move(a);
  EXPECT_THAT(b.span(), ElementsAre(7, 8));
}

}  // namespace
}  // namespace bnmlp
