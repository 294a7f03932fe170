// bnmlp.v1 requests as the engine's inputs: views into the request's
// tensors plus options with every unset field replaced by its documented
// default (common/api_defaults.h).
//
// These functions check what only the proto can get wrong (tensor rank and
// value counts, enum numbers, fields given without the field they belong
// to); what the engine checks (feature counts, labels, NaN/Inf,
// hyperparameter ranges) is left to core's validation so it is written
// once. Errors are INVALID_ARGUMENT naming the proto field.
#ifndef BNMLP_SERVER_REQUEST_CONVERSION_H_
#define BNMLP_SERVER_REQUEST_CONVERSION_H_

#include <optional>

#include "absl/status/statusor.h"
#include "bnmlp/v1/bnmlp.pb.h"
#include "core/dataset.h"
#include "core/model_config.h"
#include "core/trainer.h"

namespace bnmlp {

// The architecture of a CreateModelRequest with its defaults filled in.
// Does not run ValidateModelConfig.
absl::StatusOr<ModelConfig> ModelConfigFromProto(
    const v1::CreateModelRequest& request);

// Predict's samples: a view of `request.x()` [N, F] as (F x N). An unset x
// is INVALID_ARGUMENT saying it is required; the values are left to core's
// ValidatePredictInput.
absl::StatusOr<ConstMatrixMap<float>> PredictSamplesFromProto(
    const v1::PredictRequest& request);

// A TrainRequest as views into `request` (valid while it lives) and options.
// INVALID_ARGUMENT naming the fields if a set is given both inline and as an
// uploaded dataset (dataset with x / labels / targets, validation_dataset
// with validation_*); the datasets themselves are the service's to resolve.
struct TrainRequestViews {
  Dataset<float> train;
  std::optional<Dataset<float>> validation;  // when validation_x is set
  TrainOptions options;
};
absl::StatusOr<TrainRequestViews> TrainRequestFromProto(
    const v1::TrainRequest& request, double progress_interval_seconds);

}  // namespace bnmlp

#endif  // BNMLP_SERVER_REQUEST_CONVERSION_H_
