// One training-mode forward and backward pass over a batch.
#ifndef BNMLP_CORE_TRAINING_PASS_H_
#define BNMLP_CORE_TRAINING_PASS_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/matrix.h"
#include "core/model.h"

namespace bnmlp {

// Gradients of the loss, shaped like the LayerParameters they belong to
// (absent parts empty).
template <typename T>
struct LayerGradients {
  RowMajorMatrix<T> weight;
  Vector<T> bias;
  Vector<T> gamma;
  Vector<T> beta;
};

// What a batch is trained towards: `labels` (N class indices) for
// classification, `targets` (outputs x N) for regression.
template <typename T>
struct BatchTargets {
  absl::Span<const int32_t> labels;
  ConstMatrixMap<T> targets{nullptr, 0, 0};
};

struct BatchResult {
  double loss = 0;      // mean over the batch (cross-entropy or MSE)
  int64_t correct = 0;  // classification: argmax hits; 0 for regression
};

// Forward in training mode (BatchNorm normalizes with the batch mean and
// biased variance), loss, and backward to every parameter (and optionally to
// the input). The model is not modified: running statistics are applied
// separately with UpdateRunningStatistics, parameters by an Optimizer.
//
// Workspaces are sized on the first batch of each size and reused, so the
// steady state performs no heap allocation. Not thread-safe; one per trainer.
template <typename T>
class TrainingPass {
 public:
  explicit TrainingPass(const ModelConfig& config);

  // N = x.cols() must be >= 2 (the variance of one sample is undefined:
  // INVALID_ARGUMENT otherwise); x has model.input_size() rows. Labels must
  // be in range and targets (outputs x N): checked by ValidateDataset, not
  // here, so the inner loop stays cheap.
  absl::StatusOr<BatchResult> Run(const Model<T>& model, ConstMatrixMap<T> x,
                                  const BatchTargets<T>& targets,
                                  bool compute_input_gradient = false);

  // running <- (1 - momentum) running + momentum * batch statistic, with the
  // unbiased variance (PyTorch's BatchNorm1d), from the last Run.
  void UpdateRunningStatistics(Model<T>* model) const;

  // Valid after a successful Run, until the next.
  const std::vector<LayerGradients<T>>& gradients() const { return grads_; }
  // (inputs x N); only with compute_input_gradient.
  const Matrix<T>& input_gradient() const { return grad_input_; }
  // (outputs x N): softmax probabilities, or the regression outputs.
  const Matrix<T>& outputs() const { return layers_.back().out; }

 private:
  // Per-layer forward caches and backward scratch, sized for one batch.
  struct LayerWorkspace {
    Matrix<T> z;        // W a_prev (+ b)
    Matrix<T> normed;   // BatchNorm's normalized input (x_hat)
    Matrix<T> hidden;   // post-activation only: g(z), the BatchNorm input
    Matrix<T> out;      // the layer's output a (softmax for the output layer)
    Matrix<T> grad;     // dL/d(out), then reused for dL/dz
    Vector<T> mean;     // batch mean
    Vector<T> inv_std;  // 1 / sqrt(biased var + eps)
    Vector<T> var_unbiased;
  };

  void Resize(int64_t batch);
  void Forward(const Model<T>& model, ConstMatrixMap<T> x);
  BatchResult Loss(const BatchTargets<T>& targets);
  void Backward(const Model<T>& model, ConstMatrixMap<T> x,
                bool compute_input_gradient);

  ModelConfig config_;
  int64_t batch_ = -1;
  std::vector<LayerWorkspace> layers_;
  std::vector<LayerGradients<T>> grads_;
  Matrix<T> grad_input_;
};

extern template class TrainingPass<float>;
extern template class TrainingPass<double>;

}  // namespace bnmlp

#endif  // BNMLP_CORE_TRAINING_PASS_H_
