// Conversions between the bnmlp.v1 protos and the engine's types.
//
// Tensors are viewed, not copied: a [N, F] row-major Tensor is exactly the
// engine's column-major (F x N) matrix, so views point into the proto's own
// float buffer. Views are valid while the proto lives and is not modified.
//
// These functions check what only the proto can get wrong (tensor rank and
// value counts, enum values, unset fields and their defaults); what the
// engine checks (feature counts, labels, NaN/Inf, hyperparameter ranges) is
// left to ValidateDataset / ValidateTrainOptions / ValidateModelConfig so it
// is written once. Errors are INVALID_ARGUMENT naming the proto field.
#ifndef BNMLP_SERVER_PROTO_CONVERSION_H_
#define BNMLP_SERVER_PROTO_CONVERSION_H_

#include <cstdint>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "bnmlp/v1/bnmlp.pb.h"
#include "core/dataset.h"
#include "core/matrix.h"
#include "core/model.h"
#include "core/model_config.h"
#include "core/trainer.h"
#include "server/model_registry.h"

namespace bnmlp {

// True for a Tensor with neither shape nor values (an unset field).
bool IsEmptyTensor(const v1::Tensor& tensor);

// The samples of a [N, F] tensor as an (F x N) view. An empty tensor gives a
// (0 x 0) view. Requires rank 2, non-negative dimensions and exactly N * F
// values (no overflow for huge dimensions).
absl::StatusOr<ConstMatrixMap<float>> SampleMatrixFromTensor(
    const v1::Tensor& tensor, absl::string_view field);

// Predict's input: a [N, inputs] tensor with N >= 1 and finite values.
absl::StatusOr<ConstMatrixMap<float>> PredictInputFromTensor(
    const v1::Tensor& tensor, int64_t inputs, absl::string_view field);

// Shapes `tensor` as [samples, features] with zeroed values and returns the
// (features x samples) view of those values for the engine to fill.
MatrixMap<float> ShapeOutputTensor(int64_t samples, int64_t features,
                                   v1::Tensor* tensor);

// The architecture of a CreateModelRequest, with PyTorch's BatchNorm
// defaults for unset momentum and epsilon. Does not run ValidateModelConfig.
absl::StatusOr<ModelConfig> ModelConfigFromProto(
    const v1::CreateModelRequest& request);

// A TrainRequest as the engine's inputs: views into `request` plus options
// with the documented defaults (learning rate 0.05 for SGD and 0.001 for
// Adam when 0; momentum 0.9 when unset; momentum ignored by Adam).
struct TrainInputs {
  Dataset<float> train;
  std::optional<Dataset<float>> validation;  // when any validation_* is set
  TrainOptions options;
};
absl::StatusOr<TrainInputs> TrainInputsFromProto(
    const v1::TrainRequest& request, double progress_interval_seconds);

v1::TrainingState TrainingStateToProto(TrainingState state);
void ProgressToProto(const ProgressRecord& record, v1::TrainProgress* progress);
void ModelStatusToProto(const ModelStatus& status, v1::ModelInfo* info);
// layer_sizes and every layer's tensors; absent parts stay empty tensors.
void ParametersToProto(const Model<float>& model,
                       v1::GetParametersResponse* response);

}  // namespace bnmlp

#endif  // BNMLP_SERVER_PROTO_CONVERSION_H_
