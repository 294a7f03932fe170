#include "core/activation.h"

namespace bnmlp {
namespace {

// Applies `g` to the affine map of `in`, choosing the broadcasts once per
// call so that Eigen sees a single fused expression per case.
template <typename T, typename G>
void Affine(const T* scale, const T* shift, ConstMatrixMap<T> in,
            MatrixMap<T> out, G g) {
  using VecMap = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;
  const Eigen::Index n = in.rows();
  if (scale != nullptr && shift != nullptr) {
    out.array() = g((in.array().colwise() * VecMap(scale, n)).colwise() +
                    VecMap(shift, n));
  } else if (shift != nullptr) {
    out.array() = g(in.array().colwise() + VecMap(shift, n));
  } else if (scale != nullptr) {
    out.array() = g(in.array().colwise() * VecMap(scale, n));
  } else {
    out.array() = g(in.array());
  }
}

// block = g(block + bias), column by column over a strided block.
template <typename T, typename G>
void BiasInPlace(const T* bias, StridedMatrixMap<T> block, G g) {
  using VecMap = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;
  if (bias == nullptr) {
    block.array() = g(block.array());
  } else {
    block.array() = g(block.array().colwise() + VecMap(bias, block.rows()));
  }
}

}  // namespace

template <typename T>
void BiasActivationInPlace(Activation activation, const T* bias,
                           StridedMatrixMap<T> block) {
  switch (activation) {
    case Activation::kRelu:
      BiasInPlace(bias, block, [](auto x) { return x.max(T(0)); });
      return;
    case Activation::kTanh:
      BiasInPlace(bias, block, [](auto x) { return x.tanh(); });
      return;
    case Activation::kSigmoid:
      BiasInPlace(bias, block, [](auto x) { return x.logistic(); });
      return;
    case Activation::kIdentity:
      BiasInPlace(bias, block, [](auto x) { return x; });
      return;
  }
}

template <typename T>
void AffineActivation(Activation activation, const T* scale, const T* shift,
                      ConstMatrixMap<T> in, MatrixMap<T> out) {
  switch (activation) {
    case Activation::kRelu:
      Affine(scale, shift, in, out, [](auto x) { return x.max(T(0)); });
      return;
    case Activation::kTanh:
      Affine(scale, shift, in, out, [](auto x) { return x.tanh(); });
      return;
    case Activation::kSigmoid:
      Affine(scale, shift, in, out, [](auto x) { return x.logistic(); });
      return;
    case Activation::kIdentity:
      Affine(scale, shift, in, out, [](auto x) { return x; });
      return;
  }
}

template <typename T>
void MultiplyByDerivative(Activation activation, ConstMatrixMap<T> output,
                          MatrixMap<T> grad) {
  auto y = output.array();
  switch (activation) {
    case Activation::kRelu:
      grad.array() = (y > T(0)).select(grad.array(), T(0));
      return;
    case Activation::kTanh:
      grad.array() *= T(1) - y.square();
      return;
    case Activation::kSigmoid:
      grad.array() *= y * (T(1) - y);
      return;
    case Activation::kIdentity:
      return;
  }
}

#define BNMLP_INSTANTIATE(T)                                           \
  template void AffineActivation<T>(Activation, const T*, const T*,    \
                                    ConstMatrixMap<T>, MatrixMap<T>);  \
  template void MultiplyByDerivative<T>(Activation, ConstMatrixMap<T>, \
                                        MatrixMap<T>);                 \
  template void BiasActivationInPlace<T>(Activation, const T*,         \
                                         StridedMatrixMap<T>);
BNMLP_INSTANTIATE(float)
BNMLP_INSTANTIATE(double)
#undef BNMLP_INSTANTIATE

}  // namespace bnmlp
