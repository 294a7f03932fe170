// A non-owning view of a training or validation set, and its validation.
#ifndef BNMLP_CORE_DATASET_H_
#define BNMLP_CORE_DATASET_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "core/matrix.h"
#include "core/model_config.h"

namespace bnmlp {

// Samples are columns: x is (inputs x N); for classification `labels` holds N
// class indices, for regression `targets` is (outputs x N). The viewed memory
// must outlive every use of the view.
template <typename T>
struct Dataset {
  ConstMatrixMap<T> x{nullptr, 0, 0};
  absl::Span<const int32_t> labels;
  ConstMatrixMap<T> targets{nullptr, 0, 0};

  int64_t size() const { return x.cols(); }
  bool empty() const { return x.cols() == 0; }
};

template <typename T>
class ValidatedDataset;
class StoredDataset;

// The value checks of ValidateDataset, for data that arrives in pieces (the
// chunks of an uploaded dataset): `first_sample` is the number of the
// piece's first sample in the whole set, so messages name the sample's place
// in the set, not in the piece.
//
// INVALID_ARGUMENT naming the first non-finite entry of `m` (features x
// samples) as field[sample][feature]; OK if every entry is finite.
template <typename T>
absl::Status CheckAllFinite(ConstMatrixMap<T> m, absl::string_view field,
                            int64_t first_sample = 0);
// INVALID_ARGUMENT naming the first label outside [0, limit) as
// field[sample]; OK if every label is a class index below `limit`.
// kNoClassLimit checks only that labels are >= 0.
inline constexpr int64_t kNoClassLimit = int64_t{1} << 31;
absl::Status CheckClassLabels(absl::Span<const int32_t> labels, int64_t limit,
                              absl::string_view field,
                              int64_t first_sample = 0);

// OK with the validated view if `data` fits `config`: x has
// layer_sizes.front() rows and N >= 1 columns, all finite; classification
// has N labels in [0, outputs) and no targets; regression has finite
// (outputs x N) targets and no labels. Otherwise INVALID_ARGUMENT naming the
// field (with `field_prefix`, e.g. "validation_", before x/labels/targets),
// the offending index and what was expected; messages quote single values
// only, never the data. One pass over the data.
template <typename T>
absl::StatusOr<ValidatedDataset<T>> ValidateDataset(
    const ModelConfig& config, const Dataset<T>& data,
    absl::string_view field_prefix = "");

// A Dataset that passed ValidateDataset, or an uploaded StoredDataset that
// StoredDataset::FitTo matched to a model (the only ways to make one): the
// engine's entry points that take it (Train via TrainingInputs, Evaluate)
// do not check its values again. Still a view: the data must outlive it and
// stay unmodified. Copyable, not assignable (it holds Eigen maps).
template <typename T>
class ValidatedDataset {
 public:
  const Dataset<T>& data() const { return data_; }
  int64_t size() const { return data_.size(); }

  // True if it was validated for models of this shape: the same input and
  // output sizes and task as `config` (what its checks depended on). O(1).
  bool Fits(const ModelConfig& config) const {
    return config.layer_sizes.front() == inputs_ &&
           config.layer_sizes.back() == outputs_ && config.task == task_;
  }

 private:
  template <typename U>
  friend absl::StatusOr<ValidatedDataset<U>> ValidateDataset(const ModelConfig&,
                                                             const Dataset<U>&,
                                                             absl::string_view);
  friend class StoredDataset;

  ValidatedDataset(const Dataset<T>& data, const ModelConfig& config)
      : data_(data),
        inputs_(config.layer_sizes.front()),
        outputs_(config.layer_sizes.back()),
        task_(config.task) {}

  Dataset<T> data_;
  int64_t inputs_;
  int64_t outputs_;
  Task task_;
};

}  // namespace bnmlp

#endif  // BNMLP_CORE_DATASET_H_
