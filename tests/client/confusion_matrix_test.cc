#include "client/cli/confusion_matrix.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bnmlp::cli {
namespace {

using ::testing::HasSubstr;

TEST(ConfusionMatrixTest, CountsPairsAndAccuracy) {
  const std::vector<int32_t> truth = {0, 0, 1, 1, 2, 2};
  const std::vector<int32_t> predicted = {0, 1, 1, 1, 2, 0};
  absl::StatusOr<ConfusionMatrix> m =
      ConfusionMatrix::FromPairs(3, truth, predicted);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->total(), 6);
  EXPECT_EQ(m->correct(), 4);
  EXPECT_DOUBLE_EQ(m->accuracy(), 4.0 / 6);
  EXPECT_EQ(m->count(0, 1), 1);
  EXPECT_EQ(m->count(1, 1), 2);
  EXPECT_EQ(m->count(2, 0), 1);
  EXPECT_EQ(m->count(1, 0), 0);
}

TEST(ConfusionMatrixTest, EmptyHasZeroAccuracy) {
  EXPECT_EQ(ConfusionMatrix(2).accuracy(), 0.0);
}

TEST(ConfusionMatrixTest, RejectsOutOfRangeClassesNamingTheRow) {
  const std::vector<int32_t> truth = {0, 5};
  const std::vector<int32_t> predicted = {0, 1};
  absl::StatusOr<ConfusionMatrix> m =
      ConfusionMatrix::FromPairs(3, truth, predicted);
  EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(m.status().message(),
            "row 2: label 5 is outside the model's classes [0, 3)");
  EXPECT_FALSE(ConfusionMatrix::FromPairs(3, truth, {0}).ok());
}

TEST(ConfusionMatrixTest, RendersAnAlignedTable) {
  ConfusionMatrix m(2);
  ASSERT_TRUE(m.Add(0, 0).ok());
  for (int i = 0; i < 12; ++i) ASSERT_TRUE(m.Add(1, 1).ok());
  ASSERT_TRUE(m.Add(1, 0).ok());
  EXPECT_EQ(m.Render(),
            "true\\predicted   0  1\n"
            "0                1  0\n"
            "1                1 12\n");
  const std::vector<std::string> names = {"cat", "dog"};
  EXPECT_THAT(m.Render(names), HasSubstr("\n1 dog            1 12\n"));
}

}  // namespace
}  // namespace bnmlp::cli
