#include "client/cli/confusion_matrix.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace bnmlp::cli {

ConfusionMatrix::ConfusionMatrix(int num_classes)
    : num_classes_(std::max(num_classes, 1)),
      counts_(static_cast<size_t>(num_classes_) * num_classes_, 0) {}

absl::StatusOr<ConfusionMatrix> ConfusionMatrix::FromPairs(
    int num_classes, absl::Span<const int32_t> truth,
    absl::Span<const int32_t> predicted) {
  if (truth.size() != predicted.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        truth.size(), " labels but ", predicted.size(), " predictions"));
  }
  ConfusionMatrix matrix(num_classes);
  for (size_t row = 0; row < truth.size(); ++row) {
    if (absl::Status status = matrix.Add(truth[row], predicted[row]);
        !status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("row ", row + 1, ": ", status.message()));
    }
  }
  return matrix;
}

absl::Status ConfusionMatrix::Add(int32_t truth, int32_t predicted) {
  if (truth < 0 || truth >= num_classes_) {
    return absl::InvalidArgumentError(
        absl::StrCat("label ", truth, " is outside the model's classes [0, ",
                     num_classes_, ")"));
  }
  if (predicted < 0 || predicted >= num_classes_) {
    return absl::InvalidArgumentError(absl::StrCat(
        "predicted class ", predicted, " is outside [0, ", num_classes_, ")"));
  }
  ++counts_[truth * num_classes_ + predicted];
  ++total_;
  if (truth == predicted) ++correct_;
  return absl::OkStatus();
}

double ConfusionMatrix::accuracy() const {
  return total_ == 0 ? 0.0 : static_cast<double>(correct_) / total_;
}

std::string ConfusionMatrix::Render(
    absl::Span<const std::string> class_names) const {
  constexpr absl::string_view kCorner = "true\\predicted";
  const bool named = class_names.size() == static_cast<size_t>(num_classes_);
  std::vector<std::string> row_labels;
  size_t label_width = kCorner.size();
  for (int c = 0; c < num_classes_; ++c) {
    row_labels.push_back(named ? absl::StrCat(c, " ", class_names[c])
                               : absl::StrCat(c));
    label_width = std::max(label_width, row_labels.back().size());
  }
  int64_t largest = num_classes_ - 1;  // Column headers need room too.
  for (const int64_t n : counts_) largest = std::max(largest, n);
  const int cell_width = static_cast<int>(absl::StrCat(largest).size()) + 1;
  const int label_columns = static_cast<int>(label_width) + 1;

  std::string text = absl::StrFormat("%-*s", label_columns, kCorner);
  for (int p = 0; p < num_classes_; ++p) {
    absl::StrAppend(&text, absl::StrFormat("%*d", cell_width, p));
  }
  absl::StrAppend(&text, "\n");
  for (int t = 0; t < num_classes_; ++t) {
    absl::StrAppend(&text,
                    absl::StrFormat("%-*s", label_columns, row_labels[t]));
    for (int p = 0; p < num_classes_; ++p) {
      absl::StrAppend(&text, absl::StrFormat("%*d", cell_width, count(t, p)));
    }
    absl::StrAppend(&text, "\n");
  }
  return text;
}

}  // namespace bnmlp::cli
