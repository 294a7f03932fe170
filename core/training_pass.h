// One training-mode forward and backward pass over a batch.
#ifndef BNMLP_CORE_TRAINING_PASS_H_
#define BNMLP_CORE_TRAINING_PASS_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/compute_pool.h"
#include "core/hidden_block.h"
#include "core/matrix.h"
#include "core/model.h"

namespace bnmlp {

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
// Workspaces grow to the largest batch seen and are reused for any smaller
// one, so the steady state performs no heap allocation. Not thread-safe; one
// per trainer. Products run on the compute pool given at construction.
template <typename T>
class TrainingPass {
 public:
  // `config` must satisfy ValidateModelConfig. `pool` must outlive the pass.
  explicit TrainingPass(const ModelConfig& config,
                        ComputePool& pool = ComputePool::Default());

  // x is (inputs x N). Checks only shapes, in O(1): N >= 2 (the variance of
  // one sample is undefined), x's rows, and the size of labels or targets;
  // INVALID_ARGUMENT otherwise. Label values and NaN/Inf are NOT checked:
  // they come from data that passed ValidateDataset once (the trainer's
  // ValidateTrainInputs); an out-of-range label is a programming error
  // (asserted in debug builds). `model` must have the pass's config.
  absl::StatusOr<BatchResult> Run(const Model<T>& model, ConstMatrixMap<T> x,
                                  const BatchTargets<T>& targets,
                                  bool compute_input_gradient = false);

  // Applies the last Run's batch statistics to the model's running mean and
  // variance: running <- (1 - momentum) running + momentum * batch, with
  // the unbiased variance (PyTorch's BatchNorm1d).
  void UpdateRunningStatistics(Model<T>* model) const;

  // Valid after a successful Run, until the next.
  const std::vector<LayerGradients<T>>& gradients() const { return grads_; }
  // (inputs x N); only after a Run with compute_input_gradient.
  ConstMatrixMap<T> input_gradient() const;
  // (outputs x N): softmax probabilities, or the regression outputs.
  ConstMatrixMap<T> outputs() const;

 private:
  absl::Status CheckShapes(ConstMatrixMap<T> x,
                           const BatchTargets<T>& targets) const;
  void Reserve(int64_t batch);
  MatrixMap<T> View(Matrix<T>& buffer) const {
    return MatrixMap<T>(buffer.data(), buffer.rows(), batch_);
  }
  ConstMatrixMap<T> LayerInput(int l, ConstMatrixMap<T> x) const;
  // dL/d(output) of layer l, turned in place into dL/dz.
  MatrixMap<T> LayerGradient(int l);
  BatchResult ForwardOutput(const LayerParameters<T>& p, ConstMatrixMap<T> in,
                            const BatchTargets<T>& targets);
  void BackwardLayer(int l, const LayerParameters<T>& p, ConstMatrixMap<T> in);

  const ModelConfig config_;
  ComputePool& pool_;
  int64_t capacity_ = 0;  // columns allocated in every workspace matrix
  int64_t batch_ = 0;     // columns in use (the last Run's N)
  std::vector<std::unique_ptr<HiddenBlock<T>>> hidden_;
  // The output layer's logits -> softmax / outputs, and its gradient.
  Matrix<T> out_;
  Matrix<T> out_grad_;
  std::vector<LayerGradients<T>> grads_;
  Matrix<T> grad_input_;
};

extern template class TrainingPass<float>;
extern template class TrainingPass<double>;

}  // namespace bnmlp

#endif  // BNMLP_CORE_TRAINING_PASS_H_
