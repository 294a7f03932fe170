#include "core/parallel_product.h"

#include "gtest/gtest.h"

namespace bnmlp {
namespace {

// Splitting a product into blocks computes the same dot products (the BLAS
// may use other micro-kernels at block edges, so equal to rounding).
TEST(ParallelProductTest, MatchesThePlainProduct) {
  ComputePool pool(2);
  const Matrix<float> a = Matrix<float>::Random(256, 300);
  const Matrix<float> b = Matrix<float>::Random(300, 129);
  const RowMajorMatrix<float> w = RowMajorMatrix<float>::Random(256, 300);

  Matrix<float> forward(256, 129);
  ParallelProduct(forward, w, b, pool);
  EXPECT_TRUE(forward.isApprox(w * b, 1e-6f));

  RowMajorMatrix<float> weight_grad(256, 300);
  const Matrix<float> g = Matrix<float>::Random(256, 129);
  ParallelProduct(weight_grad, g, b.transpose(), pool);
  EXPECT_TRUE(weight_grad.isApprox(g * b.transpose(), 1e-6f));

  Matrix<float> input_grad(300, 129);
  ParallelProduct(input_grad, w.transpose(), g, pool);
  EXPECT_TRUE(input_grad.isApprox(w.transpose() * g, 1e-6f));

  // Into a map over a larger buffer, as the training workspaces do.
  Matrix<float> buffer = Matrix<float>::Zero(256, 200);
  MatrixMap<float> view(buffer.data(), 256, 129);
  ParallelProduct(view, a, b, pool);
  EXPECT_TRUE(Matrix<float>(view).isApprox(a * b, 1e-6f));
  EXPECT_TRUE(buffer.rightCols(71).isZero());
}

// Column-major results split by columns when the right operand is the
// larger (and by rows otherwise), into uneven blocks on three threads.
TEST(ParallelProductTest, EitherSplitOnUnevenBlocks) {
  ComputePool pool(3);
  const Matrix<double> narrow = Matrix<double>::Random(61, 301);
  const Matrix<double> wide = Matrix<double>::Random(301, 131);
  Matrix<double> by_columns(61, 131);
  ParallelProduct(by_columns, narrow, wide, pool);
  EXPECT_TRUE(by_columns.isApprox(narrow * wide, 1e-12));

  const Matrix<double> tall = Matrix<double>::Random(257, 301);
  Matrix<double> by_rows(257, 131);
  ParallelProduct(by_rows, tall, wide, pool);
  EXPECT_TRUE(by_rows.isApprox(tall * wide, 1e-12));
}

TEST(ParallelProductTest, SmallProductsRunInline) {
  ComputePool pool(2);
  const Matrix<double> a = Matrix<double>::Random(10, 8);
  const Matrix<double> b = Matrix<double>::Random(8, 3);
  Matrix<double> out(10, 3);
  ParallelProduct(out, a, b, pool);
  EXPECT_TRUE(out.isApprox(a * b));
}

}  // namespace
}  // namespace bnmlp
