#include "core/product_panels.h"

#include <algorithm>
#include <iterator>

#include "gtest/gtest.h"

namespace bnmlp {
namespace {

bool IsCandidateOrWhole(Eigen::Index panel_cols) {
  return panel_cols == 0 ||
         std::find(std::begin(kPanelColsCandidates),
                   std::end(kPanelColsCandidates),
                   panel_cols) != std::end(kPanelColsCandidates);
}

// The measured answer is one of the widths tried, or whole products; which
// one depends on the machine's BLAS (so only bench/ reports it).
TEST(FastestPanelColsTest, AnswersAWidthItTried) {
  EXPECT_TRUE(IsCandidateOrWhole(
      FastestPanelCols<float>(RowMajorMatrix<float>::Random(256, 784))));
  EXPECT_TRUE(IsCandidateOrWhole(
      FastestPanelCols<double>(RowMajorMatrix<double>::Random(10, 128))));
}

// One answer per shape in a process, whatever the weights' values and
// however the timings of a later probe would come out: a model and its
// copy compute with the same kernels, so they answer to the bit.
TEST(FastestPanelColsTest, OneAnswerPerShape) {
  const Eigen::Index first =
      FastestPanelCols<float>(RowMajorMatrix<float>::Random(96, 200));
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(FastestPanelCols<float>(RowMajorMatrix<float>::Random(96, 200)),
              first);
  }
}

// Weights whose probe would be costly are not measured: whole products.
TEST(FastestPanelColsTest, CostlyOrEmptyWeightsStayWhole) {
  EXPECT_EQ(FastestPanelCols<float>(RowMajorMatrix<float>(0, 0)), 0);
  // A [1, 3355442, 2] model's first layer: 3355442 x 1. Its probe output
  // alone would be 214 MB.
  EXPECT_EQ(FastestPanelCols<float>(RowMajorMatrix<float>::Zero(3355442, 1)),
            0);
  // 16 x 2048 x 4096 = 128 M multiply-adds per probe product.
  EXPECT_EQ(FastestPanelCols<float>(RowMajorMatrix<float>::Zero(2048, 4096)),
            0);
}

}  // namespace
}  // namespace bnmlp
