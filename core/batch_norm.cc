#include "core/batch_norm.h"

namespace bnmlp {

template <typename T>
void BatchNormTraining<T>::Resize(int64_t features) {
  for (Vector<T>* v : {&mean_, &var_, &inv_std_, &a_, &b_, &c_}) {
    v->resize(features);
  }
}

template <typename T>
void BatchNormTraining<T>::Normalize(MatrixMap<T> x, T eps) {
  batch_ = x.cols();
  // Two passes (mean, then the centered sum of squares) rather than
  // E[x^2] - E[x]^2, which cancels badly in float.
  mean_.noalias() = x.rowwise().mean();
  x.colwise() -= mean_;
  var_.noalias() = x.array().square().rowwise().mean().matrix();
  inv_std_.array() = (var_.array() + eps).sqrt().inverse();
  x.array().colwise() *= inv_std_.array();
}

template <typename T>
void BatchNormTraining<T>::Backward(MatrixMap<T> grad, ConstMatrixMap<T> x_hat,
                                    const Vector<T>& gamma, Vector<T>& dgamma,
                                    Vector<T>& dbeta) {
  const T m = static_cast<T>(grad.cols());
  dbeta.noalias() = grad.rowwise().sum();
  dgamma.noalias() = grad.cwiseProduct(x_hat).rowwise().sum();
  a_.array() = gamma.array() * inv_std_.array();
  b_.array() = a_.array() * dgamma.array() / m;
  c_.array() = a_.array() * dbeta.array() / m;
  grad.array() = ((grad.array().colwise() * a_.array()) -
                  (x_hat.array().colwise() * b_.array()))
                     .colwise() -
                 c_.array();
}

template <typename T>
void BatchNormTraining<T>::UpdateRunningStatistics(
    T momentum, Vector<T>& running_mean, Vector<T>& running_var) const {
  const T unbias = static_cast<T>(batch_) / static_cast<T>(batch_ - 1);
  running_mean = (T(1) - momentum) * running_mean + momentum * mean_;
  running_var = (T(1) - momentum) * running_var + (momentum * unbias) * var_;
}

template <typename T>
void EvalScaleShift(const Vector<T>& gamma, const Vector<T>& beta,
                    const Vector<T>& running_mean, const Vector<T>& running_var,
                    T eps, Vector<T>& scale, Vector<T>& shift) {
  scale.array() = gamma.array() / (running_var.array() + eps).sqrt();
  shift.array() = beta.array() - running_mean.array() * scale.array();
}

template class BatchNormTraining<float>;
template class BatchNormTraining<double>;
template void EvalScaleShift<float>(const Vector<float>&, const Vector<float>&,
                                    const Vector<float>&, const Vector<float>&,
                                    float, Vector<float>&, Vector<float>&);
template void EvalScaleShift<double>(const Vector<double>&,
                                     const Vector<double>&,
                                     const Vector<double>&,
                                     const Vector<double>&, double,
                                     Vector<double>&, Vector<double>&);

}  // namespace bnmlp
