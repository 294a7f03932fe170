#include "client/cli/model_text.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/bnmlp_client.h"
#include "client/cli/enum_flag.h"

namespace bnmlp::cli {
namespace {

std::string FormatLastProgress(const v1::ModelInfo& info) {
  const v1::TrainProgress& last = info.last_progress();
  if (last.epochs() == 0) return "";
  std::string text = absl::StrFormat("epoch %d/%d, loss %.4f", last.epoch(),
                                     last.epochs(), last.loss());
  if (client::IsClassification(info.task())) {
    absl::StrAppend(&text, absl::StrFormat(", accuracy %.4f", last.accuracy()));
  }
  // The proto sets has_validation only at epoch ends (and in the summary).
  if (last.has_validation()) {
    absl::StrAppend(&text, absl::StrFormat(", validation loss %.4f",
                                           last.validation_loss()));
    if (client::IsClassification(info.task())) {
      absl::StrAppend(&text, absl::StrFormat(", validation accuracy %.4f",
                                             last.validation_accuracy()));
    }
  }
  return text;
}

std::string FormatTensor(absl::string_view field,
                         const client::TensorData& tensor) {
  if (tensor.empty()) return absl::StrFormat("  %-13s absent\n", field);
  const std::string shape =
      absl::StrCat("[", absl::StrJoin(tensor.shape, ", "), "]");
  if (tensor.values.empty()) {
    return absl::StrFormat("  %-13s %s\n", field, shape);
  }
  double sum_of_squares = 0;
  for (const float v : tensor.values) sum_of_squares += double{v} * v;
  const auto [min, max] =
      std::minmax_element(tensor.values.begin(), tensor.values.end());
  return absl::StrFormat("  %-13s %-12s L2 %-10.4f min %-10.4f max %.4f\n",
                         field, shape, std::sqrt(sum_of_squares), *min, *max);
}

}  // namespace

std::string FormatLayerSizes(absl::Span<const int64_t> layer_sizes) {
  return absl::StrJoin(layer_sizes, "-");
}

std::string FormatModelInfo(const v1::ModelInfo& info) {
  std::string text = absl::StrFormat(
      "model '%s': layers %s, %s, %s batch norm, %s\n", info.name(),
      FormatLayerSizes(info.layer_sizes()), EnumFlagName(info.task()),
      EnumFlagName(info.normalization()), EnumFlagName(info.activation()));
  absl::StrAppend(
      &text,
      absl::StrFormat("  batch norm momentum %g, epsilon %g, seed %d\n",
                      info.batch_norm_momentum(), info.batch_norm_epsilon(),
                      info.seed()),
      absl::StrFormat("  version %d, %d parameters, %s\n", info.version(),
                      info.parameter_count(),
                      EnumFlagName(info.training_state())));
  const std::string last = FormatLastProgress(info);
  if (!last.empty()) absl::StrAppend(&text, "  last training: ", last, "\n");
  if (!info.last_error().empty()) {
    absl::StrAppend(&text, "  last error: ", info.last_error(), "\n");
  }
  return text;
}

std::string FormatModelTable(absl::Span<const v1::ModelInfo> models) {
  if (models.empty()) return "no models\n";
  constexpr absl::string_view kRow =
      "%-20s %-18s %-14s %-15s %-8s %7s %10s %s\n";
  std::string text =
      absl::StrFormat(kRow, "NAME", "LAYERS", "TASK", "NORMALIZATION", "ACTIV.",
                      "VERSION", "PARAMETERS", "STATE");
  for (const v1::ModelInfo& info : models) {
    absl::StrAppend(
        &text,
        absl::StrFormat(
            kRow, info.name(), FormatLayerSizes(info.layer_sizes()),
            EnumFlagName(info.task()), EnumFlagName(info.normalization()),
            EnumFlagName(info.activation()), absl::StrCat(info.version()),
            absl::StrCat(info.parameter_count()),
            EnumFlagName(info.training_state())));
  }
  return text;
}

std::string FormatParameters(const client::ModelParameters& parameters) {
  std::string text = absl::StrFormat("model '%s' version %d, layers %s\n",
                                     parameters.name, parameters.version,
                                     FormatLayerSizes(parameters.layer_sizes));
  for (size_t i = 0; i < parameters.layers.size(); ++i) {
    const client::LayerParameterData& layer = parameters.layers[i];
    const bool sizes_known = i + 1 < parameters.layer_sizes.size();
    absl::StrAppend(
        &text, "layer ", i + 1,
        sizes_known ? absl::StrCat(": ", parameters.layer_sizes[i], " -> ",
                                   parameters.layer_sizes[i + 1])
                    : std::string(),
        "\n", FormatTensor("weight", layer.weight),
        FormatTensor("bias", layer.bias), FormatTensor("gamma", layer.gamma),
        FormatTensor("beta", layer.beta),
        FormatTensor("running_mean", layer.running_mean),
        FormatTensor("running_var", layer.running_var));
  }
  return text;
}

}  // namespace bnmlp::cli
