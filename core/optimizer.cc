#include "core/optimizer.h"

#include <cmath>
#include <limits>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace bnmlp {
namespace {

absl::Status CheckRange(absl::string_view field, double value, double low,
                        bool low_inclusive, double high, bool high_inclusive) {
  const bool above = low_inclusive ? value >= low : value > low;
  const bool below = high_inclusive ? value <= high : value < high;
  if (above && below) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(field, " must be in ", low_inclusive ? "[" : "(", low, ", ",
                   high, high_inclusive ? "]" : ")", ", got ", value));
}

// Training runs in float: a value that float rounds to infinity (1e300),
// or a positive one it rounds to 0 (1e-50), is not the value asked for.
absl::Status CheckFloat(absl::string_view field, double value,
                        bool must_stay_positive) {
  // Compared in double: casting an out-of-range double to float is
  // undefined behavior.
  if (std::abs(value) > std::numeric_limits<float>::max()) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " must be at most ", std::numeric_limits<float>::max(),
        " (float32's largest value), got ", value));
  }
  if (must_stay_positive && value > 0 &&
      value < std::numeric_limits<float>::min()) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " must be at least ", std::numeric_limits<float>::min(),
        " (float32's smallest normal value), got ", value));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateOptimizerOptions(const OptimizerOptions& o) {
  constexpr double kInf = HUGE_VAL;
  BNMLP_RETURN_IF_ERROR(
      CheckRange("learning_rate", o.learning_rate, 0, false, kInf, false));
  BNMLP_RETURN_IF_ERROR(
      CheckRange("weight_decay", o.weight_decay, 0, true, kInf, false));
  BNMLP_RETURN_IF_ERROR(
      CheckRange("adam_beta1", o.adam_beta1, 0, true, 1, false));
  BNMLP_RETURN_IF_ERROR(
      CheckRange("adam_beta2", o.adam_beta2, 0, true, 1, false));
  BNMLP_RETURN_IF_ERROR(
      CheckRange("adam_epsilon", o.adam_epsilon, 0, false, kInf, false));
  BNMLP_RETURN_IF_ERROR(CheckFloat("learning_rate", o.learning_rate, true));
  BNMLP_RETURN_IF_ERROR(CheckFloat("weight_decay", o.weight_decay, false));
  BNMLP_RETURN_IF_ERROR(CheckFloat("adam_epsilon", o.adam_epsilon, true));
  if (o.kind != OptimizerKind::kSgd) return absl::OkStatus();
  BNMLP_RETURN_IF_ERROR(CheckRange("momentum", o.momentum, 0, true, 1, false));
  if (o.nesterov && o.momentum == 0) {
    return absl::InvalidArgumentError(
        "nesterov requires momentum > 0 (as in torch.optim.SGD)");
  }
  return absl::OkStatus();
}

template <typename T>
Optimizer<T>::Optimizer(const OptimizerOptions& options, const Model<T>& model,
                        ComputePool& pool)
    : options_(options), pool_(pool) {
  const bool adam = options.kind == OptimizerKind::kAdam;
  for (const LayerParameters<T>& p : model.layers()) {
    // Same slot order as Step: weight, bias, gamma, beta; absent parameters
    // get empty slots.
    for (Eigen::Index size :
         {p.weight.size(), p.bias.size(), p.gamma.size(), p.beta.size()}) {
      Slot slot;
      slot.first = Vector<T>::Zero(size);
      if (adam) slot.second = Vector<T>::Zero(size);
      slots_.push_back(std::move(slot));
    }
  }
}

// One pass over memory per update: the parameters, gradients and moments
// of a 784-256-128-10 model are larger than the caches, so every extra pass
// (one per Eigen statement) costs a full trip to DRAM.
template <typename T>
void Optimizer<T>::Update(const T* grad_data, T* param_data, int64_t begin,
                          int64_t end, bool decay, Slot& slot) {
  const T* __restrict grad = grad_data + begin;
  T* __restrict param = param_data + begin;
  const int64_t size = end - begin;
  if (size <= 0) return;
  const T lr = static_cast<T>(options_.learning_rate);
  // L2 weight decay enters the gradient: g = grad + wd * param.
  const T wd = decay ? static_cast<T>(options_.weight_decay) : T(0);
  T* __restrict first = slot.first.data() + begin;
  if (options_.kind == OptimizerKind::kSgd) {
    const T momentum = static_cast<T>(options_.momentum);
    if (momentum == 0) {
      for (int64_t i = 0; i < size; ++i)
        param[i] -= lr * (grad[i] + wd * param[i]);
      return;
    }
    // torch: the momentum buffer starts as the first gradient.
    const T keep = steps_ == 1 ? T(0) : momentum;
    const bool nesterov = options_.nesterov;
    for (int64_t i = 0; i < size; ++i) {
      const T g = grad[i] + wd * param[i];
      const T v = keep * first[i] + g;
      first[i] = v;
      param[i] -= lr * (nesterov ? g + momentum * v : v);
    }
    return;
  }
  // torch.optim.Adam (amsgrad off), in its order of operations.
  const T beta1 = static_cast<T>(options_.adam_beta1);
  const T beta2 = static_cast<T>(options_.adam_beta2);
  const double t = static_cast<double>(steps_);
  const T bias_correction1 =
      static_cast<T>(1 - std::pow(options_.adam_beta1, t));
  const T bias_correction2_sqrt =
      static_cast<T>(std::sqrt(1 - std::pow(options_.adam_beta2, t)));
  const T step_size = lr / bias_correction1;
  const T eps = static_cast<T>(options_.adam_epsilon);
  T* __restrict second = slot.second.data() + begin;
  for (int64_t i = 0; i < size; ++i) {
    const T g = grad[i] + wd * param[i];
    const T m = beta1 * first[i] + (T(1) - beta1) * g;
    const T v = beta2 * second[i] + (T(1) - beta2) * (g * g);
    first[i] = m;
    second[i] = v;
    param[i] -= step_size * m / (std::sqrt(v) / bias_correction2_sqrt + eps);
  }
}

template <typename T>
void Optimizer<T>::Step(const std::vector<LayerGradients<T>>& gradients,
                        Model<T>* model) {
  ++steps_;
  // Every chunk updates its share of every tensor: the work is one pass
  // over memory, so it splits evenly by size.
  const int chunks = pool_.threads();
  pool_.ParallelFor(chunks, [&](int chunk) {
    size_t slot = 0;
    for (size_t l = 0; l < gradients.size(); ++l) {
      const LayerGradients<T>& g = gradients[l];
      LayerParameters<T>& p = model->mutable_layer(static_cast<int>(l));
      const std::tuple<const T*, T*, Eigen::Index, bool> tensors[] = {
          {g.weight.data(), p.weight.data(), g.weight.size(), true},
          {g.bias.data(), p.bias.data(), g.bias.size(), false},
          {g.gamma.data(), p.gamma.data(), g.gamma.size(), false},
          {g.beta.data(), p.beta.data(), g.beta.size(), false}};
      for (const auto& [grad, param, size, decay] : tensors) {
        Update(grad, param, size * chunk / chunks, size * (chunk + 1) / chunks,
               decay, slots_[slot++]);
      }
    }
  });
}

template <typename T>
OptimizerState<T> Optimizer<T>::ExportState() const {
  OptimizerState<T> state;
  state.kind = options_.kind;
  state.steps = steps_;
  state.first.reserve(slots_.size());
  state.second.reserve(slots_.size());
  for (const Slot& slot : slots_) {
    state.first.push_back(slot.first);
    state.second.push_back(slot.second);
  }
  return state;
}

template <typename T>
absl::Status Optimizer<T>::RestoreState(const OptimizerState<T>& state) {
  auto kind_name = [](OptimizerKind kind) {
    return kind == OptimizerKind::kAdam ? "Adam" : "SGD";
  };
  if (state.kind != options_.kind) {
    return absl::InvalidArgumentError(absl::StrCat(
        "optimizer: the saved state is ", kind_name(state.kind),
        "'s, this run uses ", kind_name(options_.kind),
        " (resume with the optimizer the model was trained with)"));
  }
  if (state.steps < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("optimizer state: steps must be >= 0, got ", state.steps));
  }
  if (state.first.size() != slots_.size() ||
      state.second.size() != slots_.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "optimizer state: expected ", slots_.size(), " tensors, got ",
        state.first.size(), " and ", state.second.size()));
  }
  for (size_t i = 0; i < slots_.size(); ++i) {
    const Slot& slot = slots_[i];
    if (state.first[i].size() != slot.first.size() ||
        state.second[i].size() != slot.second.size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "optimizer state: tensor ", i, " expected ", slot.first.size(), "/",
          slot.second.size(), " values, got ", state.first[i].size(), "/",
          state.second[i].size()));
    }
    if (!state.first[i].allFinite() || !state.second[i].allFinite()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "optimizer state: tensor ", i, " holds non-finite values"));
    }
  }
  for (size_t i = 0; i < slots_.size(); ++i) {
    slots_[i].first = state.first[i];
    slots_[i].second = state.second[i];
  }
  steps_ = state.steps;
  return absl::OkStatus();
}

template class Optimizer<float>;
template class Optimizer<double>;

}  // namespace bnmlp
