#include "core/model_config.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "core/layer_layout.h"

namespace bnmlp {
namespace {

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

int64_t SaturatingAdd(int64_t a, int64_t b) {
  return a > kInt64Max - b ? kInt64Max : a + b;
}

int64_t SaturatingMul(int64_t a, int64_t b) {
  if (a == 0 || b == 0) return 0;
  return a > kInt64Max / b ? kInt64Max : a * b;
}

}  // namespace

absl::string_view TaskName(Task task) {
  switch (task) {
    case Task::kClassification:
      return "classification";
    case Task::kRegression:
      return "regression";
  }
  return "unknown";
}

absl::string_view NormalizationName(Normalization normalization) {
  switch (normalization) {
    case Normalization::kPreActivation:
      return "pre_activation";
    case Normalization::kPostActivation:
      return "post_activation";
    case Normalization::kNone:
      return "none";
  }
  return "unknown";
}

absl::string_view ActivationName(Activation activation) {
  switch (activation) {
    case Activation::kRelu:
      return "relu";
    case Activation::kTanh:
      return "tanh";
    case Activation::kSigmoid:
      return "sigmoid";
    case Activation::kIdentity:
      return "identity";
  }
  return "unknown";
}

int64_t CountParameters(const std::vector<int64_t>& layer_sizes,
                        Normalization normalization) {
  int64_t total = 0;
  for (int l = 0; l < NumLayers(layer_sizes); ++l) {
    const LayerLayout layout = LayoutOf(layer_sizes, normalization, l);
    const int64_t in = std::max<int64_t>(layout.inputs, 0);
    const int64_t out = std::max<int64_t>(layout.outputs, 0);
    // Biases, gammas and betas: one each per output unit.
    const int64_t per_unit =
        (layout.has_bias ? 1 : 0) + (layout.has_batch_norm ? 2 : 0);
    total = SaturatingAdd(total, SaturatingMul(out, in));
    total = SaturatingAdd(total, SaturatingMul(out, per_unit));
  }
  return total;
}

absl::Status ValidateModelConfig(const ModelConfig& config,
                                 int64_t max_parameters) {
  const std::vector<int64_t>& sizes = config.layer_sizes;
  if (sizes.size() < 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "layer_sizes must list at least 2 sizes [inputs, ..., outputs], got ",
        sizes.size()));
  }
  if (static_cast<int64_t>(sizes.size()) > kMaxLayers + 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("layer_sizes may list at most ", kMaxLayers + 1,
                     " sizes (", kMaxLayers, " layers), got ", sizes.size()));
  }
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (sizes[i] < 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "layer_sizes[", i, "] must be at least 1, got ", sizes[i]));
    }
  }
  if (config.task == Task::kClassification && sizes.back() < 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "layer_sizes: the last size is the number of classes and must be at "
        "least 2 for classification, got ",
        sizes.back()));
  }
  const double momentum = config.batch_norm_momentum;
  if (!(momentum >= 0 && momentum <= 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("batch_norm_momentum must be in [0, 1], got ", momentum));
  }
  const double eps = config.batch_norm_epsilon;
  if (!(eps > 0 && std::isfinite(eps))) {
    return absl::InvalidArgumentError(
        absl::StrCat("batch_norm_epsilon must be finite and > 0, got ", eps));
  }
  const int64_t limit = std::min(max_parameters, kMaxParameterCount);
  const int64_t count = CountParameters(sizes, config.normalization);
  if (count > limit) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "layer_sizes describe a model with ",
        count == kInt64Max ? "more than 9.2e18" : absl::StrCat(count),
        " parameters; the limit is ", limit));
  }
  return absl::OkStatus();
}

}  // namespace bnmlp
