#include "core/stored_dataset.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace bnmlp {
namespace {

absl::Status CheckWidth(absl::string_view field, int64_t width) {
  if (width >= 1 && width <= kMaxRowWidth) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      field, ": expected 1 to ", kMaxRowWidth, " values per row, got ", width));
}

}  // namespace

int64_t RowLayout::BytesPerRow() const {
  const int64_t per_row_targets =
      target_kind == TargetKind::kClassLabels ? 1 : target_width;
  return (features + per_row_targets) * 4;  // float32 / int32
}

absl::Status ValidateRowLayout(const RowLayout& layout) {
  BNMLP_RETURN_IF_ERROR(CheckWidth("features", layout.features));
  if (layout.target_kind == TargetKind::kValues) {
    return CheckWidth("target_width", layout.target_width);
  }
  if (layout.target_width != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "target_width: must be 0 for class labels (one label per row), got ",
        layout.target_width));
  }
  return absl::OkStatus();
}

absl::StatusOr<ValidatedDataset<float>> StoredDataset::FitTo(
    const ModelConfig& config, absl::string_view what) const {
  const int64_t inputs = config.layer_sizes.front();
  const int64_t outputs = config.layer_sizes.back();
  if (layout_.features != inputs) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " has ", layout_.features,
                     " features per row; the model's input size is ", inputs));
  }
  const bool labels = layout_.target_kind == TargetKind::kClassLabels;
  if (labels != (config.task == Task::kClassification)) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " holds ", labels ? "class labels" : "target values",
        ", but the model is a ", TaskName(config.task), " model (it trains on ",
        labels ? absl::StrCat(outputs, " target values per row")
               : absl::StrCat("class labels in [0, ", outputs, ")"),
        ")"));
  }
  if (labels && max_label_ >= outputs) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": labels[", max_label_row_, "] = ", max_label_,
                     " is not a class index in [0, ", outputs,
                     ") (the model has ", outputs, " classes)"));
  }
  if (!labels && layout_.target_width != outputs) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " has ", layout_.target_width,
        " target values per row; the model has ", outputs, " outputs"));
  }
  Dataset<float> view;
  // Eigen maps are constructed, never assigned (assignment copies values).
  new (&view.x)
      ConstMatrixMap<float>(features_.data(), layout_.features, rows_);
  if (labels) {
    view.labels = labels_.span();
  } else {
    new (&view.targets)
        ConstMatrixMap<float>(targets_.data(), layout_.target_width, rows_);
  }
  return ValidatedDataset<float>(view, config);
}

absl::StatusOr<DatasetBuilder> DatasetBuilder::Create(const RowLayout& layout,
                                                      int64_t expected_rows) {
  BNMLP_RETURN_IF_ERROR(ValidateRowLayout(layout));
  if (expected_rows < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "expected_rows: must be >= 0 (0: not known), got ", expected_rows));
  }
  DatasetBuilder builder;
  builder.data_.layout_ = layout;
  builder.expected_rows_ = expected_rows;
  if (expected_rows > 0) {
    // Sizes stay far below overflow: rows * BytesPerRow was admitted
    // against a memory budget, and ReallocBuffer checks its own.
    BNMLP_RETURN_IF_ERROR(
        builder.data_.features_.Reserve(expected_rows * layout.features));
    if (layout.target_kind == TargetKind::kClassLabels) {
      BNMLP_RETURN_IF_ERROR(builder.data_.labels_.Reserve(expected_rows));
    } else {
      BNMLP_RETURN_IF_ERROR(
          builder.data_.targets_.Reserve(expected_rows * layout.target_width));
    }
  }
  return builder;
}

absl::Status DatasetBuilder::CheckRoom(int64_t rows_so_far, int64_t rows,
                                       absl::string_view part) const {
  if (expected_rows_ == 0 || rows <= expected_rows_ - rows_so_far) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(
      part, ": ", rows, " more rows would make ", rows_so_far + rows,
      "; expected_rows announced ", expected_rows_));
}

absl::Status DatasetBuilder::CheckFeatures(ConstMatrixMap<float> x) const {
  if (x.rows() != data_.layout_.features) {
    return absl::InvalidArgumentError(
        absl::StrCat("x has ", x.rows(), " features per row; the dataset has ",
                     data_.layout_.features));
  }
  BNMLP_RETURN_IF_ERROR(CheckRoom(feature_rows_, x.cols(), "x"));
  return CheckAllFinite(x, "x", feature_rows_);
}

absl::Status DatasetBuilder::CheckLabels(
    absl::Span<const int32_t> labels) const {
  if (data_.layout_.target_kind != TargetKind::kClassLabels) {
    return absl::InvalidArgumentError(absl::StrCat(
        "labels: this dataset holds target values (",
        data_.layout_.target_width, " per row), not class labels"));
  }
  BNMLP_RETURN_IF_ERROR(
      CheckRoom(target_rows_, static_cast<int64_t>(labels.size()), "labels"));
  return CheckClassLabels(labels, kNoClassLimit, "labels", target_rows_);
}

absl::Status DatasetBuilder::CheckTargets(ConstMatrixMap<float> targets) const {
  if (data_.layout_.target_kind != TargetKind::kValues) {
    return absl::InvalidArgumentError(
        "targets: this dataset holds class labels, not target values");
  }
  if (targets.rows() != data_.layout_.target_width) {
    return absl::InvalidArgumentError(absl::StrCat(
        "targets has ", targets.rows(), " values per row; the dataset has ",
        data_.layout_.target_width));
  }
  BNMLP_RETURN_IF_ERROR(CheckRoom(target_rows_, targets.cols(), "targets"));
  return CheckAllFinite(targets, "targets", target_rows_);
}

void DatasetBuilder::TakeLabels(absl::Span<const int32_t> labels) {
  for (size_t j = 0; j < labels.size(); ++j) {
    if (labels[j] > data_.max_label_) {
      data_.max_label_ = labels[j];
      data_.max_label_row_ = target_rows_ + static_cast<int64_t>(j);
    }
  }
  // Room was made by the caller: this append cannot fail.
  (void)data_.labels_.Append(labels);
  target_rows_ += static_cast<int64_t>(labels.size());
}

absl::Status DatasetBuilder::AppendFeatures(ConstMatrixMap<float> x) {
  BNMLP_RETURN_IF_ERROR(CheckFeatures(x));
  BNMLP_RETURN_IF_ERROR(data_.features_.Append(
      absl::MakeConstSpan(x.data(), static_cast<size_t>(x.size()))));
  feature_rows_ += x.cols();
  return absl::OkStatus();
}

absl::Status DatasetBuilder::AppendLabels(absl::Span<const int32_t> labels) {
  BNMLP_RETURN_IF_ERROR(CheckLabels(labels));
  BNMLP_RETURN_IF_ERROR(
      data_.labels_.MakeRoom(static_cast<int64_t>(labels.size())));
  TakeLabels(labels);
  return absl::OkStatus();
}

absl::Status DatasetBuilder::AppendTargets(ConstMatrixMap<float> targets) {
  BNMLP_RETURN_IF_ERROR(CheckTargets(targets));
  BNMLP_RETURN_IF_ERROR(data_.targets_.Append(absl::MakeConstSpan(
      targets.data(), static_cast<size_t>(targets.size()))));
  target_rows_ += targets.cols();
  return absl::OkStatus();
}

absl::Status DatasetBuilder::AppendRows(const Dataset<float>& rows) {
  const int64_t n = rows.size();
  if (feature_rows_ != target_rows_) {
    return absl::FailedPreconditionError(absl::StrCat(
        "rows must arrive whole: ", feature_rows_, " rows have features, ",
        target_rows_, " have labels or targets"));
  }
  const bool labels = data_.layout_.target_kind == TargetKind::kClassLabels;
  if (labels && rows.targets.size() > 0) return CheckTargets(rows.targets);
  if (!labels && !rows.labels.empty()) return CheckLabels(rows.labels);
  const int64_t target_count =
      labels ? static_cast<int64_t>(rows.labels.size()) : rows.targets.cols();
  if (target_count != n) {
    return absl::InvalidArgumentError(
        absl::StrCat(labels ? "labels" : "targets", " covers ", target_count,
                     " rows; x has ", n, " (one ",
                     labels ? "label" : "row of targets", " per row)"));
  }
  // Everything is checked and every block has room before anything is
  // copied, so a rejected chunk leaves no trace.
  BNMLP_RETURN_IF_ERROR(CheckFeatures(rows.x));
  BNMLP_RETURN_IF_ERROR(labels ? CheckLabels(rows.labels)
                               : CheckTargets(rows.targets));
  BNMLP_RETURN_IF_ERROR(data_.features_.MakeRoom(rows.x.size()));
  BNMLP_RETURN_IF_ERROR(labels ? data_.labels_.MakeRoom(n)
                               : data_.targets_.MakeRoom(rows.targets.size()));
  (void)data_.features_.Append(
      absl::MakeConstSpan(rows.x.data(), static_cast<size_t>(rows.x.size())));
  feature_rows_ += n;
  if (labels) {
    TakeLabels(rows.labels);
  } else {
    (void)data_.targets_.Append(absl::MakeConstSpan(
        rows.targets.data(), static_cast<size_t>(rows.targets.size())));
    target_rows_ += n;
  }
  return absl::OkStatus();
}

absl::StatusOr<StoredDataset> DatasetBuilder::Finish() && {
  if (feature_rows_ != target_rows_) {
    return absl::InvalidArgumentError(
        absl::StrCat(feature_rows_, " rows have features but ", target_rows_,
                     " have labels or targets"));
  }
  if (feature_rows_ == 0) {
    return absl::InvalidArgumentError(
        "no rows: a dataset needs at least one row");
  }
  if (expected_rows_ > 0 && feature_rows_ != expected_rows_) {
    return absl::InvalidArgumentError(
        absl::StrCat(feature_rows_, " rows arrived; expected_rows announced ",
                     expected_rows_));
  }
  data_.rows_ = feature_rows_;
  data_.features_.ShrinkToFit();
  data_.labels_.ShrinkToFit();
  data_.targets_.ShrinkToFit();
  return std::move(data_);
}

}  // namespace bnmlp
