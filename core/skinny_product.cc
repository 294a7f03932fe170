#include "core/skinny_product.h"

namespace bnmlp {
namespace {

using Eigen::Index;
// The widest SIMD register of the instruction set compiled for (AVX2:
// 8 floats, AVX-512: 16).
using Packet = Eigen::internal::packet_traits<float>::type;
constexpr Index kLanes = Eigen::internal::packet_traits<float>::size;

// dst[R x C] = lhs[R rows] . rhs[C columns]: R x C accumulators stay in
// registers over the whole depth, each W row load feeding C products.
template <int R, int C>
void DotBlock(const float* lhs, Index lhs_stride, const float* rhs,
              Index rhs_stride, float* dst, Index dst_stride, Index depth) {
  Packet sums[R][C];
  for (int r = 0; r < R; ++r) {
    for (int c = 0; c < C; ++c) sums[r][c] = Eigen::internal::pset1<Packet>(0);
  }
  Index k = 0;
  for (; k + kLanes <= depth; k += kLanes) {
    Packet x[C];
    for (int c = 0; c < C; ++c) {
      x[c] = Eigen::internal::ploadu<Packet>(rhs + c * rhs_stride + k);
    }
    for (int r = 0; r < R; ++r) {
      const Packet w =
          Eigen::internal::ploadu<Packet>(lhs + r * lhs_stride + k);
      for (int c = 0; c < C; ++c) {
        sums[r][c] = Eigen::internal::pmadd(w, x[c], sums[r][c]);
      }
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int c = 0; c < C; ++c) {
      float sum = Eigen::internal::predux(sums[r][c]);
      for (Index t = k; t < depth; ++t) {
        sum += lhs[r * lhs_stride + t] * rhs[c * rhs_stride + t];
      }
      dst[c * dst_stride + r] = sum;
    }
  }
}

// R rows of dst, every column: blocks of 4 columns, then the rest. The
// R rows of lhs are read from memory once and from cache thereafter.
template <int R>
void DotRows(const float* lhs, Index lhs_stride, const float* rhs,
             Index rhs_stride, float* dst, Index dst_stride, Index cols,
             Index depth) {
  Index c = 0;
  for (; c + 4 <= cols; c += 4) {
    DotBlock<R, 4>(lhs, lhs_stride, rhs + c * rhs_stride, rhs_stride,
                   dst + c * dst_stride, dst_stride, depth);
  }
  const float* rest_rhs = rhs + c * rhs_stride;
  float* rest_dst = dst + c * dst_stride;
  switch (cols - c) {
    case 3:
      DotBlock<R, 3>(lhs, lhs_stride, rest_rhs, rhs_stride, rest_dst,
                     dst_stride, depth);
      break;
    case 2:
      DotBlock<R, 2>(lhs, lhs_stride, rest_rhs, rhs_stride, rest_dst,
                     dst_stride, depth);
      break;
    case 1:
      DotBlock<R, 1>(lhs, lhs_stride, rest_rhs, rhs_stride, rest_dst,
                     dst_stride, depth);
      break;
    default:
      break;
  }
}

}  // namespace

void SkinnyProduct(const float* lhs, Index lhs_stride, const float* rhs,
                   Index rhs_stride, float* dst, Index dst_stride, Index rows,
                   Index cols, Index depth) {
  // Two rows at a time: 2 x 4 accumulators, 2 row and 4 column registers
  // fit AVX2's sixteen.
  Index r = 0;
  for (; r + 2 <= rows; r += 2) {
    DotRows<2>(lhs + r * lhs_stride, lhs_stride, rhs, rhs_stride, dst + r,
               dst_stride, cols, depth);
  }
  if (r < rows) {
    DotRows<1>(lhs + r * lhs_stride, lhs_stride, rhs, rhs_stride, dst + r,
               dst_stride, cols, depth);
  }
}

}  // namespace bnmlp
