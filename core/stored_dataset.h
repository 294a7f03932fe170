// A dataset that owns its rows (an uploaded one): built chunk by chunk by a
// DatasetBuilder, every value checked once as it arrives, then immutable.
// Its rows live in one contiguous block per part, in the engine's layout
// (features: float [rows x features] row-major = the (features x rows)
// column-major samples), so training on it needs no copy, and matching it
// to a model (FitTo) costs O(1): the values were checked when they arrived.
#ifndef BNMLP_CORE_STORED_DATASET_H_
#define BNMLP_CORE_STORED_DATASET_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "core/dataset.h"
#include "core/matrix.h"
#include "core/model_config.h"
#include "core/realloc_buffer.h"

namespace bnmlp {

// What a row holds besides its features.
enum class TargetKind {
  kClassLabels,  // one class index (>= 0) per row: classification
  kValues,       // target_width floats per row: regression
};

struct RowLayout {
  int64_t features = 0;
  TargetKind target_kind = TargetKind::kClassLabels;
  // kValues: values per row; 0 for kClassLabels.
  int64_t target_width = 0;

  // Memory one row takes (features, then its label or targets).
  int64_t BytesPerRow() const;
};

// The most features (or target values) a row may have: a row must fit a
// model's input layer, whose weights are bounded by kMaxParameterCount.
inline constexpr int64_t kMaxRowWidth = int64_t{1} << 30;

// INVALID_ARGUMENT naming `features` or `target_width` unless features is in
// [1, kMaxRowWidth] and target_width is 0 for class labels, in [1,
// kMaxRowWidth] for values.
absl::Status ValidateRowLayout(const RowLayout& layout);

// Immutable and thread-compatible: any number of threads may read it. Made
// only by DatasetBuilder::Finish, so every value in it has been checked:
// features and targets finite, labels >= 0, at least one row.
class StoredDataset {
 public:
  StoredDataset(StoredDataset&&) noexcept = default;
  StoredDataset& operator=(StoredDataset&&) noexcept = default;

  const RowLayout& layout() const { return layout_; }
  int64_t rows() const { return rows_; }
  // Class labels: the largest label + 1 (the fewest classes a model needs);
  // 0 for values.
  int64_t classes() const { return max_label_ + 1; }
  // Memory the rows take: rows() * layout().BytesPerRow().
  int64_t bytes() const { return rows_ * layout_.BytesPerRow(); }

  // Row-major [rows, features] / [rows] / [rows, target_width] (the latter
  // two empty when they do not apply).
  absl::Span<const float> features() const { return features_.span(); }
  absl::Span<const int32_t> labels() const { return labels_.span(); }
  absl::Span<const float> targets() const { return targets_.span(); }

  // This dataset as the training or validation set of models shaped like
  // `config`: the same feature count, a task its targets fit (class labels
  // below the model's output count, or values as wide as its outputs). No
  // pass over the data. INVALID_ARGUMENT naming `what` (e.g. "dataset
  // 'fmnist'") and what the model takes otherwise. The view reads this
  // dataset's memory: keep the dataset alive while it is used.
  absl::StatusOr<ValidatedDataset<float>> FitTo(const ModelConfig& config,
                                                absl::string_view what) const;

 private:
  friend class DatasetBuilder;
  StoredDataset() = default;

  RowLayout layout_;
  int64_t rows_ = 0;
  // Class labels: the largest label and the first row holding it (-1: none).
  int32_t max_label_ = -1;
  int64_t max_label_row_ = -1;
  ReallocBuffer<float> features_;
  ReallocBuffer<int32_t> labels_;
  ReallocBuffer<float> targets_;
};

// Collects a dataset's rows. Features and targets may arrive separately (a
// file holds all features, then all labels) or together (AppendRows, an
// upload's chunks); either way each value is checked once, when it arrives,
// and nothing of a rejected piece is kept. Move-only; not thread-safe.
//
// Memory: with expected_rows the rows' memory is allocated once, up front;
// without, the blocks grow by half as rows arrive (ReallocBuffer: no copy of
// the data on growth), and Finish gives back what was not used.
class DatasetBuilder {
 public:
  // A builder for rows of `layout` (INVALID_ARGUMENT unless it passes
  // ValidateRowLayout). expected_rows > 0 reserves them at once
  // (RESOURCE_EXHAUSTED if that cannot be allocated) and makes any other
  // row count an error.
  static absl::StatusOr<DatasetBuilder> Create(const RowLayout& layout,
                                               int64_t expected_rows = 0);
  DatasetBuilder(DatasetBuilder&&) noexcept = default;
  DatasetBuilder& operator=(DatasetBuilder&&) noexcept = default;

  const RowLayout& layout() const { return data_.layout_; }
  // Rows whose features / labels or targets have arrived.
  int64_t feature_rows() const { return feature_rows_; }
  int64_t target_rows() const { return target_rows_; }

  // The features of the next rows, (features x n) (a row-major [n,
  // features] buffer). INVALID_ARGUMENT for a wrong feature count, more
  // rows than expected, or a non-finite value (naming x[row][feature], the
  // row counted from the dataset's first); RESOURCE_EXHAUSTED if memory
  // cannot grow.
  absl::Status AppendFeatures(ConstMatrixMap<float> x);
  // The class labels of the next rows (kClassLabels): INVALID_ARGUMENT for
  // a label < 0 (naming labels[row]) or more labels than rows expected.
  absl::Status AppendLabels(absl::Span<const int32_t> labels);
  // The targets of the next rows (kValues), (target_width x n): as
  // AppendFeatures, naming targets[row][column].
  absl::Status AppendTargets(ConstMatrixMap<float> targets);
  // Features with their labels or targets, for the same rows: the chunk's
  // x, and labels or targets (the other one empty). All or nothing:
  // INVALID_ARGUMENT (as above, or if the counts differ or the wrong part
  // is given) leaves the builder as it was.
  absl::Status AppendRows(const Dataset<float>& rows);

  // The dataset, once every row arrived whole: INVALID_ARGUMENT if there is
  // no row, features and targets cover different row counts, or
  // expected_rows was given and another number arrived.
  absl::StatusOr<StoredDataset> Finish() &&;

 private:
  DatasetBuilder() = default;
  absl::Status CheckFeatures(ConstMatrixMap<float> x) const;
  absl::Status CheckLabels(absl::Span<const int32_t> labels) const;
  absl::Status CheckTargets(ConstMatrixMap<float> targets) const;
  // INVALID_ARGUMENT if `rows` more rows of `part` would pass expected_rows.
  absl::Status CheckRoom(int64_t rows_so_far, int64_t rows,
                         absl::string_view part) const;
  void TakeLabels(absl::Span<const int32_t> labels);

  StoredDataset data_;
  int64_t expected_rows_ = 0;
  int64_t feature_rows_ = 0;
  int64_t target_rows_ = 0;
};

}  // namespace bnmlp

#endif  // BNMLP_CORE_STORED_DATASET_H_
