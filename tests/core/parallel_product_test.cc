#include "core/parallel_product.h"

#include <atomic>
#include <thread>

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

// Panels (the last one narrower) compute the same product as a whole one.
TEST(ParallelProductTest, PanelsMatchTheWholeProduct) {
  const RowMajorMatrix<float> w = RowMajorMatrix<float>::Random(96, 70);
  for (Eigen::Index cols : {1, 3, 4, 5, 11, 64}) {
    const Matrix<float> x = Matrix<float>::Random(70, cols);
    const Matrix<float> whole = w * x;
    for (Eigen::Index panel : {1, 2, 4}) {
      Matrix<float> panelled = Matrix<float>::Constant(96, cols, 7.0f);
      NarrowProduct(panelled, w, x, NarrowProductRule{panel, false});
      EXPECT_TRUE(panelled.isApprox(whole, 1e-6f))
          << cols << " columns in panels of " << panel;
    }
  }
}

// ParallelProduct in panels or by SkinnyProduct, split over the pool or
// not, and past either's width (whole again): every entry written, the
// epilogue on all of them.
TEST(ParallelProductTest, NarrowProductsSplitOrNotCoverTheWholeResult) {
  ComputePool pool(2);
  const RowMajorMatrix<float> w = RowMajorMatrix<float>::Random(256, 784);
  for (const NarrowProductRule narrow :
       {NarrowProductRule{4, false}, NarrowProductRule{0, true}}) {
    for (Eigen::Index cols : {Eigen::Index{2}, Eigen::Index{7}, kMaxSkinnyCols,
                              Eigen::Index{64}, kMaxPanelledCols + 9}) {
      const Matrix<float> x = Matrix<float>::Random(784, cols);
      Matrix<float> y = Matrix<float>::Constant(256, cols, 7.0f);
      std::atomic<int64_t> epilogue_entries{0};
      ParallelProduct(
          y, w, x, pool,
          [&](Eigen::Index, Eigen::Index, Eigen::Index rows, Eigen::Index n) {
            epilogue_entries += rows * n;
          },
          narrow);
      EXPECT_TRUE(y.isApprox(w * x, 1e-5f))
          << cols << " columns, panels " << narrow.panel_cols << ", skinny "
          << narrow.skinny;
      EXPECT_EQ(epilogue_entries.load(), 256 * cols);
    }
  }
}

// Where SkinnyProduct runs it computes every column on its own: a sample's
// outputs are the same bits in any narrow product, split or not.
TEST(ParallelProductTest, SkinnyColumnsDoNotDependOnTheirNeighbours) {
  ComputePool pool(2);
  const RowMajorMatrix<float> w = RowMajorMatrix<float>::Random(256, 784);
  const Matrix<float> x = Matrix<float>::Random(784, kMaxSkinnyCols);
  Matrix<float> all(256, kMaxSkinnyCols);
  ParallelProduct(all, w, x, pool, NoEpilogue(), NarrowProductRule{0, true});
  for (Eigen::Index first = 0; first + 2 <= kMaxSkinnyCols; first += 3) {
    Matrix<float> pair(256, 2);
    NarrowProduct(pair, w, x.middleCols(first, 2), NarrowProductRule{0, true});
    EXPECT_EQ(pair, all.middleCols(first, 2)) << "columns from " << first;
  }
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

// Where a product ran is observed through the pool's ParallelFor count and
// the thread that ran the epilogue: a small product must not reach the pool
// at all, a large one must.
TEST(ParallelProductTest, SmallProductsRunInline) {
  ComputePool pool(2);
  const Matrix<double> a = Matrix<double>::Random(10, 8);
  const Matrix<double> b = Matrix<double>::Random(8, 3);
  Matrix<double> out(10, 3);
  int blocks = 0;
  std::thread::id ran_on;
  ParallelProduct(out, a, b, pool,
                  [&](Eigen::Index row, Eigen::Index col, Eigen::Index rows,
                      Eigen::Index cols) {
                    ++blocks;
                    ran_on = std::this_thread::get_id();
                    EXPECT_EQ(row, 0);
                    EXPECT_EQ(col, 0);
                    EXPECT_EQ(rows, 10);
                    EXPECT_EQ(cols, 3);
                  });
  EXPECT_TRUE(out.isApprox(a * b));
  EXPECT_EQ(pool.parallel_for_calls(), 0) << "the small product was split";
  EXPECT_EQ(blocks, 1);
  EXPECT_EQ(ran_on, std::this_thread::get_id());

  // The check above can fail: a product over the threshold reaches the pool.
  const Matrix<double> big_a = Matrix<double>::Random(128, 128);
  const Matrix<double> big_b = Matrix<double>::Random(128, 128);
  Matrix<double> big(128, 128);
  ParallelProduct(big, big_a, big_b, pool);
  EXPECT_EQ(pool.parallel_for_calls(), 1);
}

TEST(ParallelProductTest, PlanFollowsTheThresholdThePoolAndTheShapes) {
  // 256 x 128 x 784 = 25.7M multiply-adds: split, by rows (lhs is larger).
  ProductPlan plan = PlanProduct(256, 128, 784, false, 2);
  EXPECT_EQ(plan.chunks, 2);
  EXPECT_TRUE(plan.split_rows);
  // A wide batch: rhs is larger, split by columns.
  plan = PlanProduct(256, 1024, 784, false, 2);
  EXPECT_FALSE(plan.split_rows);
  // Row-major destinations always split by rows.
  EXPECT_TRUE(PlanProduct(256, 1024, 784, true, 2).split_rows);
  // Under the threshold, on a one-thread pool, or with one row to split:
  // inline.
  EXPECT_EQ(PlanProduct(256, 1, 784, false, 2).chunks, 1);
  EXPECT_EQ(PlanProduct(256, 128, 784, false, 1).chunks, 1);
  EXPECT_EQ(PlanProduct(1, 1 << 20, 4, true, 2).chunks, 1);
  // Never more blocks than the pool has threads.
  EXPECT_EQ(PlanProduct(256, 128, 784, false, 8).chunks, 8);
  EXPECT_EQ(PlanProduct(3, 1 << 20, 784, true, 8).chunks, 3);
}

// The epilogue runs once per block, on exactly the block just written, and
// the blocks tile dst.
TEST(ParallelProductTest, TheEpilogueSeesEachBlockOnce) {
  ComputePool pool(3);
  for (bool by_rows : {true, false}) {
    const Matrix<float> a = Matrix<float>::Random(by_rows ? 300 : 60, 200);
    const Matrix<float> b = Matrix<float>::Random(200, by_rows ? 60 : 300);
    Matrix<float> out(a.rows(), b.cols());
    Matrix<int> seen = Matrix<int>::Zero(out.rows(), out.cols());
    std::atomic<int> blocks{0};
    ParallelProduct(out, a, b, pool,
                    [&](Eigen::Index row, Eigen::Index col, Eigen::Index rows,
                        Eigen::Index cols) {
                      blocks.fetch_add(1);
                      seen.block(row, col, rows, cols).array() += 1;
                      out.block(row, col, rows, cols).array() += 1.0f;
                    });
    EXPECT_EQ(blocks.load(), 3) << by_rows;
    EXPECT_TRUE((seen.array() == 1).all()) << by_rows;
    const Matrix<float> expected = (a * b).array() + 1.0f;
    EXPECT_TRUE(out.isApprox(expected, 1e-5f)) << by_rows;
  }
}

}  // namespace
}  // namespace bnmlp
