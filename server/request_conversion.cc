#include "server/request_conversion.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/api_defaults.h"
#include "common/status_macros.h"
#include "server/api_enums.h"
#include "server/tensor_views.h"

namespace bnmlp {
namespace {

absl::StatusOr<Dataset<float>> DatasetFromProto(
    const v1::Tensor& x, const google::protobuf::RepeatedField<int32_t>& labels,
    const v1::Tensor& targets, absl::string_view prefix) {
  BNMLP_ASSIGN_OR_RETURN(ConstMatrixMap<float> x_view,
                         SampleMatrixFromTensor(x, absl::StrCat(prefix, "x")));
  BNMLP_ASSIGN_OR_RETURN(
      ConstMatrixMap<float> targets_view,
      SampleMatrixFromTensor(targets, absl::StrCat(prefix, "targets")));
  // Eigen maps are constructed, never assigned (assignment copies values).
  return Dataset<float>{
      x_view, absl::MakeConstSpan(labels.data(), labels.size()), targets_view};
}

// validation_labels / validation_targets belong to validation_x: given
// without it they would be silently ignored.
absl::Status CheckValidationFieldsHaveX(const v1::TrainRequest& request) {
  if (!IsEmptyTensor(request.validation_x())) return absl::OkStatus();
  if (request.validation_labels_size() > 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "validation_labels: ", request.validation_labels_size(),
        " labels given without validation_x; send validation_x [N, inputs] "
        "with them, or neither"));
  }
  if (!IsEmptyTensor(request.validation_targets())) {
    return absl::InvalidArgumentError(
        "validation_targets: given without validation_x; send validation_x "
        "[N, inputs] with them, or neither");
  }
  return absl::OkStatus();
}

// A set comes either inline or as an uploaded dataset: with both, one of
// them would be silently ignored.
absl::Status CheckOneSourcePerSet(const v1::TrainRequest& request) {
  if (!request.dataset().empty() &&
      (!IsEmptyTensor(request.x()) || request.labels_size() > 0 ||
       !IsEmptyTensor(request.targets()))) {
    return absl::InvalidArgumentError(
        "dataset and x / labels / targets are both given; train either on an "
        "uploaded dataset or on inline tensors, not both");
  }
  if (!request.validation_dataset().empty() &&
      (!IsEmptyTensor(request.validation_x()) ||
       request.validation_labels_size() > 0 ||
       !IsEmptyTensor(request.validation_targets()))) {
    return absl::InvalidArgumentError(
        "validation_dataset and validation_x / validation_labels / "
        "validation_targets are both given; validate either on an uploaded "
        "dataset or on inline tensors, not both");
  }
  return absl::OkStatus();
}

OptimizerOptions OptimizerFromRequest(const v1::TrainRequest& request,
                                      OptimizerKind kind) {
  OptimizerOptions optimizer;
  optimizer.kind = kind;
  const bool adam = kind == OptimizerKind::kAdam;
  // Exactly 0 means unset; NaN and negatives go on to validation.
  optimizer.learning_rate = request.learning_rate() != 0.0f
                                ? request.learning_rate()
                                : (adam ? api_defaults::kAdamLearningRate
                                        : api_defaults::kSgdLearningRate);
  optimizer.momentum =
      request.has_momentum() ? request.momentum() : api_defaults::kSgdMomentum;
  if (adam) optimizer.momentum = 0;  // Adam has no momentum buffer
  optimizer.nesterov = request.nesterov();
  optimizer.weight_decay = request.weight_decay();
  return optimizer;
}

}  // namespace

absl::StatusOr<ModelConfig> ModelConfigFromProto(
    const v1::CreateModelRequest& request) {
  ModelConfig config;
  BNMLP_ASSIGN_OR_RETURN(config.task, TaskFromProto(request.task(), "task"));
  BNMLP_ASSIGN_OR_RETURN(
      config.normalization,
      NormalizationFromProto(request.normalization(), "normalization"));
  BNMLP_ASSIGN_OR_RETURN(
      config.activation,
      ActivationFromProto(request.activation(), "activation"));
  config.layer_sizes.assign(request.layer_sizes().begin(),
                            request.layer_sizes().end());
  config.batch_norm_momentum = request.has_batch_norm_momentum()
                                   ? request.batch_norm_momentum()
                                   : api_defaults::kBatchNormMomentum;
  config.batch_norm_epsilon = request.has_batch_norm_epsilon()
                                  ? request.batch_norm_epsilon()
                                  : api_defaults::kBatchNormEpsilon;
  config.seed = request.seed();
  return config;
}

absl::StatusOr<ConstMatrixMap<float>> PredictSamplesFromProto(
    const v1::PredictRequest& request) {
  if (IsEmptyTensor(request.x())) {
    return absl::InvalidArgumentError(
        "x: required: expected shape [N, inputs] with N >= 1, got an empty "
        "tensor");
  }
  return SampleMatrixFromTensor(request.x(), "x");
}

absl::StatusOr<TrainRequestViews> TrainRequestFromProto(
    const v1::TrainRequest& request, double progress_interval_seconds) {
  BNMLP_ASSIGN_OR_RETURN(OptimizerKind kind,
                         OptimizerFromProto(request.optimizer(), "optimizer"));
  TrainOptions options;
  BNMLP_ASSIGN_OR_RETURN(options.schedule,
                         ScheduleFromProto(request.learning_rate_schedule(),
                                           "learning_rate_schedule"));
  BNMLP_RETURN_IF_ERROR(CheckOneSourcePerSet(request));
  BNMLP_RETURN_IF_ERROR(CheckValidationFieldsHaveX(request));
  BNMLP_ASSIGN_OR_RETURN(
      Dataset<float> train,
      DatasetFromProto(request.x(), request.labels(), request.targets(), ""));
  std::optional<Dataset<float>> validation;
  if (!IsEmptyTensor(request.validation_x())) {
    BNMLP_ASSIGN_OR_RETURN(
        Dataset<float> view,
        DatasetFromProto(request.validation_x(), request.validation_labels(),
                         request.validation_targets(), "validation_"));
    validation.emplace(view);
  }
  options.epochs =
      request.epochs() != 0 ? request.epochs() : api_defaults::kEpochs;
  options.batch_size = request.batch_size() != 0 ? request.batch_size()
                                                 : api_defaults::kBatchSize;
  options.shuffle_seed = request.shuffle_seed();
  options.progress_interval_seconds = progress_interval_seconds;
  options.optimizer = OptimizerFromRequest(request, kind);
  return TrainRequestViews{train, validation, options};
}

}  // namespace bnmlp
