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

// grad .*= g'(.) where the derivative is expressed through the activation's
// output y = g(x): relu 1[y > 0], tanh 1 - y^2, sigmoid y (1 - y),
// identity 1. Matches PyTorch's conventions (relu'(0) = 0).
template <typename T>
void MultiplyByDerivative(Activation activation, ConstMatrixMap<T> output,
                          MatrixMap<T> grad);

}  // namespace bnmlp

#endif  // BNMLP_CORE_ACTIVATION_H_
