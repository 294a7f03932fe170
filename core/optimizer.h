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
