// A matrix product for a few columns that reads the weight in place.
//
// Why: a forward product of a small merged batch, W (rows x depth) times a
// few samples, costs OpenBLAS's general GEMM a packed copy of all of W per
// call. On AVX2 kernels (Haswell, Zen; no small-matrix kernels in OpenBLAS
// 0.3.21) a 256 x 784 weight by 2 samples takes 97 us against 16 us for
// one (measured on an AMD EPYC, one thread), so merging two Predicts
// cost six times one. Here every output is a dot product of a W row
// (contiguous: W is row-major) and a sample (contiguous: column-major), W
// streams from memory once, and the samples stay in cache.
#ifndef BNMLP_CORE_SKINNY_PRODUCT_H_
#define BNMLP_CORE_SKINNY_PRODUCT_H_

#include <Eigen/Core>
#include <type_traits>

namespace bnmlp {

// The most columns SkinnyProduct is used for (InferenceModel): beyond
// this, OpenBLAS's packed GEMM is as fast (see bench/README.md).
inline constexpr Eigen::Index kMaxSkinnyCols = 16;

// dst = lhs * rhs, with lhs (rows x depth) row-major, rhs (depth x cols)
// and dst (rows x cols) column-major, each given by its first element and
// its outer stride (elements between rows of lhs, columns of rhs and dst).
// dst must not overlap lhs or rhs. Deterministic: the same operands give
// the same bits, whatever the other rows or columns.
void SkinnyProduct(const float* lhs, Eigen::Index lhs_stride, const float* rhs,
                   Eigen::Index rhs_stride, float* dst, Eigen::Index dst_stride,
                   Eigen::Index rows, Eigen::Index cols, Eigen::Index depth);

// The same on Eigen expressions (blocks of a row-major lhs, of
// column-major rhs and dst).
template <typename Dst, typename Lhs, typename Rhs>
void SkinnyProduct(Dst&& dst, const Lhs& lhs, const Rhs& rhs) {
  static_assert(Lhs::IsRowMajor && !Rhs::IsRowMajor &&
                    !std::remove_reference_t<Dst>::IsRowMajor,
                "SkinnyProduct takes a row-major lhs, column-major rhs/dst");
  static_assert(Lhs::InnerStrideAtCompileTime == 1 &&
                    Rhs::InnerStrideAtCompileTime == 1 &&
                    std::remove_reference_t<Dst>::InnerStrideAtCompileTime == 1,
                "SkinnyProduct takes contiguous rows/columns");
  SkinnyProduct(lhs.data(), lhs.outerStride(), rhs.data(), rhs.outerStride(),
                dst.data(), dst.outerStride(), dst.rows(), dst.cols(),
                lhs.cols());
}

}  // namespace bnmlp

#endif  // BNMLP_CORE_SKINNY_PRODUCT_H_
