// Parameter updates exactly as torch.optim.SGD and torch.optim.Adam.
#ifndef BNMLP_CORE_OPTIMIZER_H_
#define BNMLP_CORE_OPTIMIZER_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "common/api_defaults.h"
#include "core/compute_pool.h"
#include "core/model.h"

namespace bnmlp {

enum class OptimizerKind { kSgd, kAdam };

// Defaults are the API's (common/api_defaults.h) for the default optimizer,
// SGD; a caller choosing Adam sets api_defaults::kAdamLearningRate itself.
struct OptimizerOptions {
  OptimizerKind kind = OptimizerKind::kSgd;
  double learning_rate = api_defaults::kSgdLearningRate;
  // SGD: v = momentum v + g (v = g on the first step); dampening 0.
  // Ignored by Adam.
  double momentum = api_defaults::kSgdMomentum;
  // SGD: step along g + momentum v instead of v.
  bool nesterov = false;
  // L2 penalty: g += weight_decay * W, on weights only (never bias, gamma,
  // beta), for both optimizers (torch.optim's weight_decay, not AdamW).
  double weight_decay = api_defaults::kWeightDecay;
  double adam_beta1 = 0.9;
  double adam_beta2 = 0.999;
  double adam_epsilon = 1e-8;  // added outside the square root
};

// INVALID_ARGUMENT naming the field (learning_rate, momentum, ...) unless
// every option is finite and in range.
absl::Status ValidateOptimizerOptions(const OptimizerOptions& options);

// What an Optimizer carries from one step to the next, exported so that a
// later run can continue exactly where this one stopped (resumed training,
// the model store).
template <typename T>
struct OptimizerState {
  OptimizerKind kind = OptimizerKind::kSgd;
  // Steps taken: SGD's first step sets its buffer to the gradient, Adam's
  // bias corrections depend on it.
  int64_t steps = 0;
  // One entry per parameter tensor, in the order weight, bias, gamma, beta
  // of layer 1, then layer 2, ... (absent tensors: empty vectors). `first`
  // is SGD's momentum buffer or Adam's first moment; `second` is Adam's
  // second moment (empty vectors for SGD).
  std::vector<Vector<T>> first;
  std::vector<Vector<T>> second;
};

// Holds the momentum / moment buffers, sized once for a model's shapes.
// Not thread-safe.
template <typename T>
class Optimizer {
 public:
  // `options` must satisfy ValidateOptimizerOptions; `model` gives the
  // parameter shapes (Step must be called with a model of the same shapes).
  // `pool` must outlive the optimizer.
  Optimizer(const OptimizerOptions& options, const Model<T>& model,
            ComputePool& pool = ComputePool::Default());

  // Applies one update of `gradients` (from TrainingPass) to `model`,
  // spread over the optimizer's compute pool. Allocation-free.
  void Step(const std::vector<LayerGradients<T>>& gradients, Model<T>* model);

  int64_t steps() const { return steps_; }
  OptimizerKind kind() const { return options_.kind; }

  // A copy of the buffers and the step count.
  OptimizerState<T> ExportState() const;
  // Continues from `state` (exported by an optimizer of the same kind for a
  // model of the same shapes). INVALID_ARGUMENT, with this optimizer
  // unchanged, if the kind, the number of tensors or a tensor's size differs,
  // if steps < 0, or if a value is not finite.
  absl::Status RestoreState(const OptimizerState<T>& state);
  // The learning rate of the following steps (a schedule's current value).
  void set_learning_rate(double learning_rate) {
    options_.learning_rate = learning_rate;
  }

 private:
  struct Slot {  // per parameter tensor: first and second moments
    Vector<T> first;
    Vector<T> second;
  };
  // Updates entries [begin, end) of one parameter tensor.
  void Update(const T* grad, T* param, int64_t begin, int64_t end, bool decay,
              Slot& slot);

  OptimizerOptions options_;
  ComputePool& pool_;
  int64_t steps_ = 0;
  std::vector<Slot> slots_;  // weight, bias, gamma, beta per layer
};

extern template class Optimizer<float>;
extern template class Optimizer<double>;

}  // namespace bnmlp

#endif  // BNMLP_CORE_OPTIMIZER_H_
