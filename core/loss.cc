#include "core/loss.h"

#include <cmath>

namespace bnmlp {

template <typename T>
void Softmax(MatrixMap<T> logits) {
  for (Eigen::Index j = 0; j < logits.cols(); ++j) {
    auto col = logits.col(j);
    col.array() = (col.array() - col.maxCoeff()).exp();
    col /= col.sum();
  }
}

template <typename T>
double SoftmaxCrossEntropy(MatrixMap<T> logits,
                           absl::Span<const int32_t> labels, MatrixMap<T>* grad,
                           int64_t* correct) {
  const Eigen::Index n = logits.cols();
  double loss_sum = 0;
  int64_t hits = 0;
  for (Eigen::Index j = 0; j < n; ++j) {
    auto col = logits.col(j);
    const int32_t label = labels[j];
    Eigen::Index argmax = 0;
    const T max = col.maxCoeff(&argmax);
    hits += argmax == label;
    const T label_logit = col(label);
    col.array() = (col.array() - max).exp();
    const T sum = col.sum();
    // -log softmax(label) = log(sum exp(z - max)) - (z_label - max).
    loss_sum += std::log(static_cast<double>(sum)) -
                static_cast<double>(label_logit - max);
    col /= sum;
  }
  if (grad != nullptr) {
    const T inv_n = T(1) / static_cast<T>(n);
    for (Eigen::Index j = 0; j < n; ++j) {
      grad->col(j) = logits.col(j) * inv_n;
      (*grad)(labels[j], j) -= inv_n;
    }
  }
  if (correct != nullptr) *correct += hits;
  return loss_sum / static_cast<double>(n);
}

template <typename T>
double MeanSquaredError(ConstMatrixMap<T> outputs, ConstMatrixMap<T> targets,
                        MatrixMap<T>* grad) {
  const double size = static_cast<double>(outputs.size());
  const double loss =
      (outputs - targets).template cast<double>().squaredNorm() / size;
  if (grad != nullptr) {
    grad->noalias() = (outputs - targets) * static_cast<T>(2.0 / size);
  }
  return loss;
}

#define BNMLP_INSTANTIATE(T)                                                \
  template void Softmax<T>(MatrixMap<T>);                                   \
  template double SoftmaxCrossEntropy<T>(                                   \
      MatrixMap<T>, absl::Span<const int32_t>, MatrixMap<T>*, int64_t*);    \
  template double MeanSquaredError<T>(ConstMatrixMap<T>, ConstMatrixMap<T>, \
                                      MatrixMap<T>*);
BNMLP_INSTANTIATE(float)
BNMLP_INSTANTIATE(double)
#undef BNMLP_INSTANTIATE

}  // namespace bnmlp
