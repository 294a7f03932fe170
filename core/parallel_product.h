// Matrix products split into blocks over the compute pool.
#ifndef BNMLP_CORE_PARALLEL_PRODUCT_H_
#define BNMLP_CORE_PARALLEL_PRODUCT_H_

#include <algorithm>
#include <type_traits>
#include <utility>

#include "core/compute_pool.h"
#include "core/matrix.h"
#include "core/skinny_product.h"

namespace bnmlp {

// Products smaller than this many multiply-adds run on the calling thread:
// splitting them costs more in hand-off than it saves (e.g. the 10-class
// output layer).
inline constexpr double kMinParallelMacs = 1 << 20;

// How ParallelProduct splits dst (rows x cols) = lhs (rows x depth) *
// rhs (depth x cols). Which way (measured with bench/step_breakdown, see
// bench/README.md):
//  - a row-major dst (the weight gradients) by rows: each thread writes the
//    same contiguous half of the gradient that the optimizer step, split by
//    memory, then reads and updates;
//  - a column-major dst by rows when lhs is the larger operand (the forward
//    product W a: each thread then reads only its rows of the row-major W),
//    else by columns. A block packs the whole of the operand it does not
//    split, so splitting the larger one packs less.
// chunks is 1 (run inline, no pool) below kMinParallelMacs or on a
// one-thread pool.
struct ProductPlan {
  bool split_rows = false;
  int chunks = 1;
};
inline ProductPlan PlanProduct(Eigen::Index rows, Eigen::Index cols,
                               Eigen::Index depth, bool dst_row_major,
                               int threads) {
  ProductPlan plan;
  plan.split_rows = dst_row_major || rows * depth > depth * cols;
  const Eigen::Index outer = plan.split_rows ? rows : cols;
  const double macs = static_cast<double>(rows) * static_cast<double>(cols) *
                      static_cast<double>(depth);
  plan.chunks = macs < kMinParallelMacs
                    ? 1
                    : static_cast<int>(std::min<Eigen::Index>(threads, outer));
  return plan;
}

// How a product of a few columns runs, chosen per weight (InferenceModel).
// Narrow products are where OpenBLAS's general GEMM is slow: it packs all of
// lhs for every call (a 256 x 784 weight: ~100 us, whether rhs has 2
// columns or 256).
struct NarrowProductRule {
  // > 0: in column panels of this width, for OpenBLAS's small-matrix
  // kernels (AVX-512), which take a few columns without packing; which
  // weights: SmallKernelPanelCols (core/blas_kernels.h).
  Eigen::Index panel_cols = 0;
  // Products of 2 to kMaxSkinnyCols columns by SkinnyProduct (a float,
  // row-major lhs), where panels do not apply.
  bool skinny = false;
};

// The widest product ParallelProduct computes in panels. A 256 x 784
// weight in panels of 4 against whole, one thread: 26 vs 106 us at 8
// columns, 212 vs 283 at 64, 905 vs 895 at 256; two threads (row halves):
// 25 vs 19 at 8, 53 vs 75 at 16, 157 vs 178 at 64, 635 vs 547 at 256.
inline constexpr Eigen::Index kMaxPanelledCols = 64;

// Every operand of a product as one of few types: a map of contiguous
// columns (or rows) with a run-time stride, per scalar and storage order.
// Blocks, transposes and maps of any matrix reduce to these, so each
// product below is compiled once per combination, in parallel_product.cc,
// rather than once per expression type in every file that multiplies
// (Eigen's product code for each type cost seconds of compile time).
template <typename T, int Order>
using ProductInput =
    Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Order>, 0,
               Eigen::OuterStride<>>;
template <typename T, int Order>
using ProductOutput =
    Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Order>, 0,
               Eigen::OuterStride<>>;

template <typename X>
inline constexpr int kStorageOrder =
    std::remove_reference_t<X>::IsRowMajor ? Eigen::RowMajor : Eigen::ColMajor;

// x (a matrix, map, block or transpose with contiguous columns or rows) as
// a Map (ProductInput or ProductOutput) over the same elements.
template <template <typename, int> class Map, typename X>
auto AsProductMap(X&& x) {
  using Plain = std::remove_reference_t<X>;
  static_assert(Plain::InnerStrideAtCompileTime == 1,
                "products take contiguous columns or rows");
  using T = std::remove_const_t<typename Plain::Scalar>;
  return Map<T, kStorageOrder<X>>(x.data(), x.rows(), x.cols(),
                                  Eigen::OuterStride<>(x.outerStride()));
}
template <typename X>
auto AsProductInput(const X& x) {
  return AsProductMap<ProductInput>(x);
}
template <typename X>
auto AsProductOutput(X&& x) {
  return AsProductMap<ProductOutput>(std::forward<X>(x));
}

// dst = lhs * rhs (no aliasing): one product, by SkinnyProduct (float,
// row-major lhs, column-major rhs and dst) or in column panels where
// `narrow` says so for dst's width. Defined in parallel_product.cc for
// float and double and every storage order.
template <typename T, int DstOrder, int LhsOrder, int RhsOrder>
void NarrowMapProduct(ProductOutput<T, DstOrder> dst,
                      ProductInput<T, LhsOrder> lhs,
                      ProductInput<T, RhsOrder> rhs,
                      const NarrowProductRule& narrow);

// The same on any operands AsProductInput/AsProductOutput take.
template <typename Dst, typename Lhs, typename Rhs>
void NarrowProduct(Dst&& dst, const Lhs& lhs, const Rhs& rhs,
                   const NarrowProductRule& narrow) {
  NarrowMapProduct(AsProductOutput(dst), AsProductInput(lhs),
                   AsProductInput(rhs), narrow);
}

// An epilogue that does nothing (see ParallelProduct).
struct NoEpilogue {
  void operator()(Eigen::Index, Eigen::Index, Eigen::Index,
                  Eigen::Index) const {}
};

// dst = lhs * rhs (no aliasing), split by PlanProduct into one block per
// pool thread. Each block is one single-threaded GEMM (OpenBLAS via
// EIGEN_USE_BLAS, or Eigen's own), so the product never allocates.
//
// Then epilogue(row, col, rows, cols) runs on the block of dst just written
// (dst.block(row, col, rows, cols)), on the thread that wrote it, while the
// block is still in that core's cache: an elementwise pass (bias,
// activation) fused into the product instead of a separate trip through
// memory. It must only touch its block.
//
// Each block runs as NarrowProduct(`narrow`) says for its width.
template <typename Dst, typename Lhs, typename Rhs,
          typename Epilogue = NoEpilogue>
void ParallelProduct(Dst&& dst, const Lhs& lhs, const Rhs& rhs,
                     ComputePool& pool = ComputePool::Default(),
                     Epilogue&& epilogue = NoEpilogue(),
                     const NarrowProductRule& narrow = {}) {
  const ProductPlan plan =
      PlanProduct(dst.rows(), dst.cols(), lhs.cols(),
                  std::remove_reference_t<Dst>::IsRowMajor, pool.threads());
  if (plan.chunks <= 1) {
    NarrowProduct(dst, lhs, rhs, narrow);
    epilogue(0, 0, dst.rows(), dst.cols());
    return;
  }
  const int chunks = plan.chunks;
  const Eigen::Index outer = plan.split_rows ? dst.rows() : dst.cols();
  pool.ParallelFor(chunks, [&](int chunk) {
    const Eigen::Index begin = outer * chunk / chunks;
    const Eigen::Index size = outer * (chunk + 1) / chunks - begin;
    if (plan.split_rows) {
      NarrowProduct(dst.middleRows(begin, size), lhs.middleRows(begin, size),
                    rhs, narrow);
      epilogue(begin, 0, size, dst.cols());
    } else {
      NarrowProduct(dst.middleCols(begin, size), lhs,
                    rhs.middleCols(begin, size), narrow);
      epilogue(0, begin, dst.rows(), size);
    }
  });
}

}  // namespace bnmlp

#endif  // BNMLP_CORE_PARALLEL_PRODUCT_H_
