// The architecture and options of a BN-MLP, and their validation.
#ifndef BNMLP_CORE_MODEL_CONFIG_H_
#define BNMLP_CORE_MODEL_CONFIG_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/api_defaults.h"

namespace bnmlp {

enum class Task { kClassification, kRegression };

// Where each hidden layer normalizes (see DESIGN.md section 2).
enum class Normalization {
  kPreActivation,   // Linear(no bias) -> BatchNorm -> activation
  kPostActivation,  // Linear(bias) -> activation -> BatchNorm
  kNone,            // Linear(bias) -> activation
};

enum class Activation { kRelu, kTanh, kSigmoid, kIdentity };

absl::string_view TaskName(Task task);
absl::string_view NormalizationName(Normalization normalization);
absl::string_view ActivationName(Activation activation);

// Defaults are the API's (common/api_defaults.h).
struct ModelConfig {
  // [inputs, hidden_1, ..., hidden_k, outputs].
  std::vector<int64_t> layer_sizes;
  Task task = Task::kClassification;
  Normalization normalization = Normalization::kPreActivation;
  Activation activation = Activation::kRelu;
  double batch_norm_momentum = api_defaults::kBatchNormMomentum;
  double batch_norm_epsilon = api_defaults::kBatchNormEpsilon;
  // Seed of the He (Kaiming normal) initialization.
  uint64_t seed = api_defaults::kSeed;
};

// The largest parameter count the engine accepts at all (8 GiB of float
// parameters); servers usually set a lower limit.
inline constexpr int64_t kMaxParameterCount = int64_t{1} << 31;
// The most Linear layers a model may have (each costs workspaces and a
// pass, whatever its width).
inline constexpr int64_t kMaxLayers = 1000;

// Trainable parameters (weights, biases, gammas, betas) of `layer_sizes`
// under `normalization` (core/layer_layout.h says which layer has which).
// Never overflows: entries that are not positive count
// as zero, and the result saturates at INT64_MAX.
int64_t CountParameters(const std::vector<int64_t>& layer_sizes,
                        Normalization normalization);

// OK if `config` describes a model the engine can build with at most
// `max_parameters` trainable parameters. Otherwise INVALID_ARGUMENT naming
// the offending field (layer_sizes, batch_norm_momentum, ...) and what was
// expected, or RESOURCE_EXHAUSTED when the parameter count exceeds
// `max_parameters`. Cheap: checks sizes before anything is allocated.
absl::Status ValidateModelConfig(const ModelConfig& config,
                                 int64_t max_parameters = kMaxParameterCount);

}  // namespace bnmlp

#endif  // BNMLP_CORE_MODEL_CONFIG_H_
