// A non-owning view of a training or validation set, and its validation.
#ifndef BNMLP_CORE_DATASET_H_
#define BNMLP_CORE_DATASET_H_

#include <cstdint>

#include "absl/status/status.h"
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

// OK if `data` fits `config`: x has layer_sizes.front() rows and N >= 1
// columns, all finite; classification has N labels in [0, outputs) and no
// targets; regression has finite (outputs x N) targets and no labels.
// Otherwise INVALID_ARGUMENT naming the field (with `field_prefix`, e.g.
// "validation_", before x/labels/targets), the offending index and what was
// expected.
template <typename T>
absl::Status ValidateDataset(const ModelConfig& config, const Dataset<T>& data,
                             absl::string_view field_prefix = "");

}  // namespace bnmlp

#endif  // BNMLP_CORE_DATASET_H_
