#include "core/skinny_product.h"

#include "core/matrix.h"
#include "gtest/gtest.h"

namespace bnmlp {
namespace {

// Against the product in double, over shapes that exercise every tail:
// odd rows (the one-row block), every column remainder past blocks of 4,
// depths that are not a multiple of the SIMD width (and shorter than it).
TEST(SkinnyProductTest, MatchesTheProductInDouble) {
  for (Eigen::Index rows : {1, 2, 7, 256}) {
    for (Eigen::Index depth : {1, 5, 8, 17, 64, 784}) {
      const RowMajorMatrix<float> w =
          RowMajorMatrix<float>::Random(rows, depth);
      for (Eigen::Index cols = 1; cols <= kMaxSkinnyCols; ++cols) {
        const Matrix<float> x = Matrix<float>::Random(depth, cols);
        Matrix<float> y(rows, cols);
        SkinnyProduct(y, w, x);
        const Matrix<double> expected = w.cast<double>() * x.cast<double>();
        // Float sums of `depth` products of values in [-1, 1].
        const double tolerance = 1e-6 * static_cast<double>(depth) + 1e-6;
        EXPECT_LE((y.cast<double>() - expected).cwiseAbs().maxCoeff(),
                  tolerance)
            << rows << " x " << depth << " by " << cols << " columns";
      }
    }
  }
}

// Blocks of larger matrices (outer strides beyond the block's size): the
// block of dst is written, nothing around it.
TEST(SkinnyProductTest, WritesOnlyItsBlockOfStridedOperands) {
  const RowMajorMatrix<float> w = RowMajorMatrix<float>::Random(40, 30);
  const Matrix<float> x = Matrix<float>::Random(30, 12);
  Matrix<float> y = Matrix<float>::Constant(50, 12, 7.0f);
  SkinnyProduct(y.block(5, 3, 21, 6), w.middleRows(10, 21), x.middleCols(2, 6));
  const Matrix<float> expected = w.middleRows(10, 21) * x.middleCols(2, 6);
  EXPECT_TRUE(y.block(5, 3, 21, 6).isApprox(expected, 1e-5f));
  Matrix<float> outside = y;
  outside.block(5, 3, 21, 6).setConstant(7.0f);
  EXPECT_TRUE((outside.array() == 7.0f).all());
}

// The same column gives the same bits alone or among others, in any
// position: a merged Predict answers each sample as it would answer it in
// any other merge.
TEST(SkinnyProductTest, AColumnsBitsDoNotDependOnTheOthers) {
  const RowMajorMatrix<float> w = RowMajorMatrix<float>::Random(9, 100);
  const Matrix<float> x = Matrix<float>::Random(100, 11);
  Matrix<float> together(9, 11);
  SkinnyProduct(together, w, x);
  for (Eigen::Index c = 0; c < x.cols(); ++c) {
    Matrix<float> alone(9, 1);
    SkinnyProduct(alone, w, x.col(c));
    EXPECT_EQ(alone.col(0), together.col(c)) << "column " << c;
  }
}

}  // namespace
}  // namespace bnmlp
