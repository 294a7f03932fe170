#include "core/dataset.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "core/finite.h"

namespace bnmlp {
namespace {

// INVALID_ARGUMENT naming the first non-finite entry of a (rows x cols)
// matrix as field[sample][feature].
template <typename T>
absl::Status CheckFinite(ConstMatrixMap<T> m, absl::string_view field) {
  const std::optional<MatrixPosition> bad = FirstNonFinite(m);
  if (!bad.has_value()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(field, "[", bad->col, "][", bad->row, "] is ",
                   m(bad->row, bad->col), "; every value must be finite"));
}

template <typename T>
absl::Status CheckLabels(const Dataset<T>& data, int64_t outputs,
                         absl::string_view x, absl::string_view labels,
                         absl::string_view targets) {
  const int64_t n = data.size();
  if (data.targets.size() > 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        targets, " is set, but this is a classification model: send ", labels,
        " (class indices) instead"));
  }
  if (static_cast<int64_t>(data.labels.size()) != n) {
    return absl::InvalidArgumentError(
        absl::StrCat(labels, " has ", data.labels.size(), " entries; ", x,
                     " has ", n, " samples (one label per sample)"));
  }
  for (int64_t j = 0; j < n; ++j) {
    if (data.labels[j] < 0 || data.labels[j] >= outputs) {
      return absl::InvalidArgumentError(
          absl::StrCat(labels, "[", j, "] = ", data.labels[j],
                       " is not a class index in [0, ", outputs, ")"));
    }
  }
  return absl::OkStatus();
}

template <typename T>
absl::Status CheckTargets(const Dataset<T>& data, int64_t outputs,
                          absl::string_view labels, absl::string_view targets) {
  const int64_t n = data.size();
  if (!data.labels.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(labels, " is set, but this is a regression model: send ",
                     targets, " [N, ", outputs, "] instead"));
  }
  if (data.targets.cols() != n || data.targets.rows() != outputs) {
    return absl::InvalidArgumentError(
        absl::StrCat(targets, " must have shape [", n, ", ", outputs,
                     "] (one row of ", outputs, " outputs per sample), got [",
                     data.targets.cols(), ", ", data.targets.rows(), "]"));
  }
  return CheckFinite(data.targets, targets);
}

}  // namespace

template <typename T>
absl::StatusOr<ValidatedDataset<T>> ValidateDataset(
    const ModelConfig& config, const Dataset<T>& data,
    absl::string_view field_prefix) {
  const std::string x = absl::StrCat(field_prefix, "x");
  const std::string labels = absl::StrCat(field_prefix, "labels");
  const std::string targets = absl::StrCat(field_prefix, "targets");
  const int64_t inputs = config.layer_sizes.front();
  const int64_t outputs = config.layer_sizes.back();
  if (data.size() < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(x, " is empty; at least one sample is required"));
  }
  if (data.x.rows() != inputs) {
    return absl::InvalidArgumentError(absl::StrCat(
        x, " has ", data.x.rows(),
        " features per sample; the model's input size is ", inputs));
  }
  BNMLP_RETURN_IF_ERROR(CheckFinite(data.x, x));
  if (config.task == Task::kClassification) {
    BNMLP_RETURN_IF_ERROR(CheckLabels(data, outputs, x, labels, targets));
  } else {
    BNMLP_RETURN_IF_ERROR(CheckTargets(data, outputs, labels, targets));
  }
  return ValidatedDataset<T>(data, config);
}

template absl::StatusOr<ValidatedDataset<float>> ValidateDataset<float>(
    const ModelConfig&, const Dataset<float>&, absl::string_view);
template absl::StatusOr<ValidatedDataset<double>> ValidateDataset<double>(
    const ModelConfig&, const Dataset<double>&, absl::string_view);

}  // namespace bnmlp
