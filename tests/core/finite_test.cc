#include "core/finite.h"

#include <cmath>
#include <limits>

#include "gtest/gtest.h"

namespace bnmlp {
namespace {

TEST(FirstNonFiniteTest, AllFiniteIncludingExtremes) {
  Matrix<float> m = Matrix<float>::Random(50, 40);
  m(3, 4) = std::numeric_limits<float>::max();
  m(5, 6) = -std::numeric_limits<float>::max();
  m(7, 8) = std::numeric_limits<float>::denorm_min();
  EXPECT_FALSE(FirstNonFinite(ConstMatrixMap<float>(m.data(), 50, 40)));
  EXPECT_FALSE(FirstNonFinite(ConstMatrixMap<float>(m.data(), 50, 0)));
}

TEST(FirstNonFiniteTest, FindsTheFirstBadEntryColumnByColumn) {
  Matrix<double> m = Matrix<double>::Zero(4, 6);
  m(3, 2) = std::nan("");
  m(0, 5) = -HUGE_VAL;
  m(1, 2) = HUGE_VAL;  // same column as the NaN, earlier row: first
  const std::optional<MatrixPosition> bad =
      FirstNonFinite(ConstMatrixMap<double>(m.data(), 4, 6));
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->col, 2);
  EXPECT_EQ(bad->row, 1);

  m(1, 2) = 0;
  m(3, 2) = 0;
  const std::optional<MatrixPosition> last =
      FirstNonFinite(ConstMatrixMap<double>(m.data(), 4, 6));
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->col, 5);
  EXPECT_EQ(last->row, 0);
}

}  // namespace
}  // namespace bnmlp
