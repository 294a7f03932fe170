// Elementwise activations and their derivatives, vectorized through Eigen's
// array expressions.
#ifndef BNMLP_CORE_ACTIVATION_H_
#define BNMLP_CORE_ACTIVATION_H_

#include "core/matrix.h"
#include "core/model_config.h"

namespace bnmlp {

// out = g(scale .* in + shift), with per-row (per-feature) scale and shift:
// BatchNorm's affine step and the activation in one pass over memory.
// Pass scale = null for out = g(in + shift) (a bias), shift = null for none.
// `in` and `out` may alias.
template <typename T>
void AffineActivation(Activation activation, const T* scale, const T* shift,
                      ConstMatrixMap<T> in, MatrixMap<T> out);

// block = g(block + bias) in place, bias per row (may be null for none):
// the eval-mode layer's whole elementwise work, applied by the inference
// model to each compute-pool block of a product's output.
template <typename T>
void BiasActivationInPlace(Activation activation, const T* bias,
                           StridedMatrixMap<T> block);

// An epilogue for ParallelProduct (core/parallel_product.h): applies
// BiasActivationInPlace to each block of `out` on the thread that just
// wrote it, while the block is in that core's cache. `bias` (per row of
// out) may be null.
template <typename T>
auto BiasActivationEpilogue(MatrixMap<T> out, Activation activation,
                            const T* bias) {
  T* const data = out.data();
  const Eigen::Index stride = out.rows();
  return
      [data, stride, activation, bias](Eigen::Index row, Eigen::Index col,
                                       Eigen::Index rows, Eigen::Index cols) {
        BiasActivationInPlace<T>(
            activation, bias == nullptr ? nullptr : bias + row,
            StridedMatrixMap<T>(data + col * stride + row, rows, cols,
                                Eigen::OuterStride<>(stride)));
      };
}

// grad .*= g'(.) where the derivative is expressed through the activation's
// output y = g(x): relu 1[y > 0], tanh 1 - y^2, sigmoid y (1 - y),
// identity 1. Matches PyTorch's conventions (relu'(0) = 0).
template <typename T>
void MultiplyByDerivative(Activation activation, ConstMatrixMap<T> output,
                          MatrixMap<T> grad);

}  // namespace bnmlp

#endif  // BNMLP_CORE_ACTIVATION_H_
