#include "interchange/onnx_metadata.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/build_info.h"

namespace bnmlp {
namespace {

std::string Number(double value) { return absl::StrFormat("%.9g", value); }

}  // namespace

std::vector<std::pair<std::string, std::string>> ExportMetadata(
    const ModelConfig& config, const OnnxExportOptions& options) {
  return {
      {"bnmlp.model_name", options.model_name},
      {"bnmlp.model_version", absl::StrCat(options.model_version)},
      {"bnmlp.layer_sizes", absl::StrJoin(config.layer_sizes, ",")},
      {"bnmlp.task", std::string(TaskName(config.task))},
      {"bnmlp.normalization",
       std::string(NormalizationName(config.normalization))},
      {"bnmlp.activation", std::string(ActivationName(config.activation))},
      {"bnmlp.batch_norm_momentum", Number(config.batch_norm_momentum)},
      {"bnmlp.batch_norm_epsilon", Number(config.batch_norm_epsilon)},
      {"bnmlp.batch_norm_folded", options.fold_batch_norm ? "true" : "false"},
      {"bnmlp.version", ProjectVersion()},
      {"bnmlp.git_commit", GitCommit()},
  };
}

std::string ExportDocString(const ModelConfig& config,
                            const OnnxExportOptions& options) {
  const bool classification = config.task == Task::kClassification;
  const bool has_bn = config.normalization != Normalization::kNone &&
                      config.layer_sizes.size() > 2;
  std::string normalization =
      has_bn ? absl::StrFormat("%s BatchNorm (momentum %s, epsilon %s%s)",
                               NormalizationName(config.normalization),
                               Number(config.batch_norm_momentum),
                               Number(config.batch_norm_epsilon),
                               options.fold_batch_norm
                                   ? ", folded into the products"
                                   : ", running statistics")
             : std::string("no BatchNorm");
  return absl::StrFormat(
      "bnmlp model '%s' version %d: layers %s, %s, %s activation, %s. "
      "Input x: float32 [N, %d]. Output y: float32 [N, %d], %s. "
      "Exported by bnmlp %s (git %s).",
      options.model_name, options.model_version,
      absl::StrJoin(config.layer_sizes, "-"), TaskName(config.task),
      ActivationName(config.activation), normalization,
      config.layer_sizes.front(), config.layer_sizes.back(),
      classification ? "class probabilities (softmax)" : "values",
      ProjectVersion(), GitCommit());
}

}  // namespace bnmlp
