// Matrix products split into blocks over the compute pool.
#ifndef BNMLP_CORE_PARALLEL_PRODUCT_H_
#define BNMLP_CORE_PARALLEL_PRODUCT_H_

#include <algorithm>
#include <type_traits>

#include "core/compute_pool.h"
#include "core/matrix.h"

namespace bnmlp {

// Products smaller than this many multiply-adds run on the calling thread:
// splitting them costs more in hand-off than it saves (e.g. the 10-class
// output layer).
inline constexpr double kMinParallelMacs = 1 << 20;

// dst = lhs * rhs (no aliasing), split into one block per pool thread. Each
// block is one single-threaded GEMM (OpenBLAS via EIGEN_USE_BLAS, or Eigen's
// own), so the product never allocates. Which way to split (measured with
// bench/step_breakdown, see bench/README.md):
//  - a row-major dst (the weight gradients) by rows: each thread writes the
//    same contiguous half of the gradient that the optimizer step, split by
//    memory, then reads and updates;
//  - a column-major dst by rows when lhs is the larger operand (the forward
//    product W a: each thread then reads only its rows of the row-major W),
//    else by columns. A block packs the whole of the operand it does not
//    split, so splitting the larger one packs less.
template <typename Dst, typename Lhs, typename Rhs>
void ParallelProduct(Dst&& dst, const Lhs& lhs, const Rhs& rhs,
                     ComputePool& pool = ComputePool::Default()) {
  const bool split_rows =
      std::remove_reference_t<Dst>::IsRowMajor || lhs.size() > rhs.size();
  const Eigen::Index outer = split_rows ? dst.rows() : dst.cols();
  const double macs = static_cast<double>(dst.rows()) *
                      static_cast<double>(dst.cols()) *
                      static_cast<double>(lhs.cols());
  const int chunks =
      macs < kMinParallelMacs
          ? 1
          : static_cast<int>(std::min<Eigen::Index>(pool.threads(), outer));
  if (chunks <= 1) {
    dst.noalias() = lhs * rhs;
    return;
  }
  pool.ParallelFor(chunks, [&](int chunk) {
    const Eigen::Index begin = outer * chunk / chunks;
    const Eigen::Index size = outer * (chunk + 1) / chunks - begin;
    if (split_rows) {
      dst.middleRows(begin, size).noalias() = lhs.middleRows(begin, size) * rhs;
    } else {
      dst.middleCols(begin, size).noalias() = lhs * rhs.middleCols(begin, size);
    }
  });
}

}  // namespace bnmlp

#endif  // BNMLP_CORE_PARALLEL_PRODUCT_H_
