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

// dst = lhs * rhs (no aliasing), split along dst's outer dimension (columns
// of a column-major dst, rows of a row-major one) so every block writes
// contiguous memory and reads whole operands. Each block is one
// single-threaded GEMM (OpenBLAS via EIGEN_USE_BLAS, or Eigen's own), so the
// product never allocates.
template <typename Dst, typename Lhs, typename Rhs>
void ParallelProduct(Dst&& dst, const Lhs& lhs, const Rhs& rhs,
                     ComputePool& pool = ComputePool::Default()) {
  constexpr bool kSplitRows = std::remove_reference_t<Dst>::IsRowMajor;
  const Eigen::Index outer = kSplitRows ? dst.rows() : dst.cols();
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
    if constexpr (kSplitRows) {
      dst.middleRows(begin, size).noalias() = lhs.middleRows(begin, size) * rhs;
    } else {
      dst.middleCols(begin, size).noalias() = lhs * rhs.middleCols(begin, size);
    }
  });
}

}  // namespace bnmlp

#endif  // BNMLP_CORE_PARALLEL_PRODUCT_H_
