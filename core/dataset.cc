#include "core/dataset.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "core/finite.h"

namespace bnmlp {
namespace {

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
  return CheckClassLabels(data.labels, outputs, labels);
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
  return CheckAllFinite(data.targets, targets);
}

}  // namespace

template <typename T>
absl::Status CheckAllFinite(ConstMatrixMap<T> m, absl::string_view field,
                            int64_t first_sample) {
  const std::optional<MatrixPosition> bad = FirstNonFinite(m);
  if (!bad.has_value()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(field, "[", first_sample + bad->col, "][", bad->row, "] is ",
                   m(bad->row, bad->col), "; every value must be finite"));
}

absl::Status CheckClassLabels(absl::Span<const int32_t> labels, int64_t limit,
                              absl::string_view field, int64_t first_sample) {
  for (size_t j = 0; j < labels.size(); ++j) {
    const int32_t label = labels[j];
    if (label >= 0 && label < limit) continue;
    const std::string where =
        absl::StrCat(field, "[", first_sample + static_cast<int64_t>(j),
                     "] = ", label, " is not a class index ");
    if (limit >= kNoClassLimit) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, "(class indices are >= 0)"));
    }
    return absl::InvalidArgumentError(
        absl::StrCat(where, "in [0, ", limit, ")"));
  }
  return absl::OkStatus();
}

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
  BNMLP_RETURN_IF_ERROR(CheckAllFinite(data.x, x));
  if (config.task == Task::kClassification) {
    BNMLP_RETURN_IF_ERROR(CheckLabels(data, outputs, x, labels, targets));
  } else {
    BNMLP_RETURN_IF_ERROR(CheckTargets(data, outputs, labels, targets));
  }
  return ValidatedDataset<T>(data, config);
}

template absl::Status CheckAllFinite<float>(ConstMatrixMap<float>,
                                            absl::string_view, int64_t);
template absl::Status CheckAllFinite<double>(ConstMatrixMap<double>,
                                             absl::string_view, int64_t);
template absl::StatusOr<ValidatedDataset<float>> ValidateDataset<float>(
    const ModelConfig&, const Dataset<float>&, absl::string_view);
template absl::StatusOr<ValidatedDataset<double>> ValidateDataset<double>(
    const ModelConfig&, const Dataset<double>&, absl::string_view);

}  // namespace bnmlp
