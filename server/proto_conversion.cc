#include "server/proto_conversion.h"

#include <cmath>
#include <initializer_list>
#include <limits>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/descriptor.h"

namespace bnmlp {
namespace {

std::string ShapeString(const v1::Tensor& tensor) {
  return absl::StrCat("[", absl::StrJoin(tensor.shape(), ", "), "]");
}

// INVALID_ARGUMENT unless `value` is one of the enum's declared numbers.
absl::Status CheckEnumValue(int value,
                            const google::protobuf::EnumDescriptor* descriptor,
                            absl::string_view field) {
  if (descriptor->FindValueByNumber(value) != nullptr) {
    return absl::OkStatus();
  }
  std::vector<std::string> names;
  for (int i = 0; i < descriptor->value_count(); ++i) {
    const google::protobuf::EnumValueDescriptor* entry = descriptor->value(i);
    names.push_back(absl::StrCat(entry->name(), " (", entry->number(), ")"));
  }
  return absl::InvalidArgumentError(absl::StrCat(field, ": expected one of ",
                                                 absl::StrJoin(names, ", "),
                                                 ", got ", value));
}

struct EnumField {
  int value;
  const google::protobuf::EnumDescriptor* descriptor;
  const char* name;
};

absl::Status CheckEnumFields(std::initializer_list<EnumField> fields) {
  for (const EnumField& field : fields) {
    if (absl::Status status =
            CheckEnumValue(field.value, field.descriptor, field.name);
        !status.ok()) {
      return status;
    }
  }
  return absl::OkStatus();
}

Task TaskFromProto(v1::Task task) {
  return task == v1::REGRESSION ? Task::kRegression : Task::kClassification;
}

Normalization NormalizationFromProto(v1::Normalization normalization) {
  switch (normalization) {
    case v1::POST_ACTIVATION:
      return Normalization::kPostActivation;
    case v1::NONE:
      return Normalization::kNone;
    default:
      return Normalization::kPreActivation;
  }
}

Activation ActivationFromProto(v1::Activation activation) {
  switch (activation) {
    case v1::TANH:
      return Activation::kTanh;
    case v1::SIGMOID:
      return Activation::kSigmoid;
    case v1::IDENTITY:
      return Activation::kIdentity;
    default:
      return Activation::kRelu;
  }
}

v1::Task TaskToProto(Task task) {
  return task == Task::kRegression ? v1::REGRESSION : v1::CLASSIFICATION;
}

v1::Normalization NormalizationToProto(Normalization normalization) {
  switch (normalization) {
    case Normalization::kPostActivation:
      return v1::POST_ACTIVATION;
    case Normalization::kNone:
      return v1::NONE;
    case Normalization::kPreActivation:
      break;
  }
  return v1::PRE_ACTIVATION;
}

v1::Activation ActivationToProto(Activation activation) {
  switch (activation) {
    case Activation::kTanh:
      return v1::TANH;
    case Activation::kSigmoid:
      return v1::SIGMOID;
    case Activation::kIdentity:
      return v1::IDENTITY;
    case Activation::kRelu:
      break;
  }
  return v1::RELU;
}

void CopyToTensor(const float* data, std::vector<int64_t> shape,
                  v1::Tensor* tensor) {
  int64_t count = 1;
  for (int64_t dimension : shape) {
    tensor->add_shape(dimension);
    count *= dimension;
  }
  tensor->mutable_values()->Reserve(static_cast<int>(count));
  tensor->mutable_values()->Add(data, data + count);
}

void VectorToTensor(const Vector<float>& vector, v1::Tensor* tensor) {
  if (vector.size() == 0) return;  // absent parts stay empty
  CopyToTensor(vector.data(), {vector.size()}, tensor);
}

absl::StatusOr<Dataset<float>> DatasetFromProto(
    const v1::Tensor& x, const google::protobuf::RepeatedField<int32_t>& labels,
    const v1::Tensor& targets, absl::string_view prefix) {
  absl::StatusOr<ConstMatrixMap<float>> x_view =
      SampleMatrixFromTensor(x, absl::StrCat(prefix, "x"));
  if (!x_view.ok()) return x_view.status();
  absl::StatusOr<ConstMatrixMap<float>> targets_view =
      SampleMatrixFromTensor(targets, absl::StrCat(prefix, "targets"));
  if (!targets_view.ok()) return targets_view.status();
  // Eigen maps are constructed, never assigned (assignment copies values).
  return Dataset<float>{*x_view,
                        absl::MakeConstSpan(labels.data(), labels.size()),
                        *targets_view};
}

}  // namespace

bool IsEmptyTensor(const v1::Tensor& tensor) {
  return tensor.shape_size() == 0 && tensor.values_size() == 0;
}

absl::StatusOr<ConstMatrixMap<float>> SampleMatrixFromTensor(
    const v1::Tensor& tensor, absl::string_view field) {
  if (IsEmptyTensor(tensor)) return ConstMatrixMap<float>(nullptr, 0, 0);
  if (tensor.shape_size() != 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": expected shape [N, features] (rank 2), got rank ",
        tensor.shape_size(), " shape ", ShapeString(tensor)));
  }
  const int64_t samples = tensor.shape(0);
  const int64_t features = tensor.shape(1);
  if (samples < 0 || features < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": shape ", ShapeString(tensor), " has a negative dimension"));
  }
  // Divide instead of multiplying: huge dimensions must not overflow.
  const bool count_matches =
      features == 0
          ? tensor.values_size() == 0
          : samples <= std::numeric_limits<int64_t>::max() / features &&
                samples * features == tensor.values_size();
  if (!count_matches) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": shape ", ShapeString(tensor),
                     " needs shape[0] * shape[1] values (row-major), got ",
                     tensor.values_size()));
  }
  return ConstMatrixMap<float>(tensor.values().data(), features, samples);
}

absl::StatusOr<ConstMatrixMap<float>> PredictInputFromTensor(
    const v1::Tensor& tensor, int64_t inputs, absl::string_view field) {
  absl::StatusOr<ConstMatrixMap<float>> x =
      SampleMatrixFromTensor(tensor, field);
  if (!x.ok()) return x.status();
  if (x->cols() < 1 || x->rows() != inputs) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": expected shape [N, ", inputs, "] with N >= 1 (the model has ",
        inputs, " inputs), got ",
        IsEmptyTensor(tensor) ? "an empty tensor" : ShapeString(tensor)));
  }
  for (int i = 0; i < tensor.values_size(); ++i) {
    if (!std::isfinite(tensor.values(i))) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ": expected finite values, got ", tensor.values(i),
          " at sample ", i / inputs, ", feature ", i % inputs));
    }
  }
  return x;
}

MatrixMap<float> ShapeOutputTensor(int64_t samples, int64_t features,
                                   v1::Tensor* tensor) {
  tensor->clear_shape();
  tensor->add_shape(samples);
  tensor->add_shape(features);
  tensor->mutable_values()->Resize(static_cast<int>(samples * features), 0.0f);
  return MatrixMap<float>(tensor->mutable_values()->mutable_data(), features,
                          samples);
}

absl::StatusOr<ModelConfig> ModelConfigFromProto(
    const v1::CreateModelRequest& request) {
  if (absl::Status status = CheckEnumFields(
          {{request.task(), v1::Task_descriptor(), "task"},
           {request.normalization(), v1::Normalization_descriptor(),
            "normalization"},
           {request.activation(), v1::Activation_descriptor(), "activation"}});
      !status.ok()) {
    return status;
  }
  ModelConfig config;
  config.layer_sizes.assign(request.layer_sizes().begin(),
                            request.layer_sizes().end());
  config.task = TaskFromProto(request.task());
  config.normalization = NormalizationFromProto(request.normalization());
  config.activation = ActivationFromProto(request.activation());
  if (request.has_batch_norm_momentum()) {
    config.batch_norm_momentum = request.batch_norm_momentum();
  }
  if (request.has_batch_norm_epsilon()) {
    config.batch_norm_epsilon = request.batch_norm_epsilon();
  }
  config.seed = request.seed();
  return config;
}

absl::StatusOr<TrainInputs> TrainInputsFromProto(
    const v1::TrainRequest& request, double progress_interval_seconds) {
  if (absl::Status status = CheckEnumFields(
          {{request.optimizer(), v1::Optimizer_descriptor(), "optimizer"},
           {request.learning_rate_schedule(),
            v1::LearningRateSchedule_descriptor(), "learning_rate_schedule"}});
      !status.ok()) {
    return status;
  }
  absl::StatusOr<Dataset<float>> train =
      DatasetFromProto(request.x(), request.labels(), request.targets(), "");
  if (!train.ok()) return train.status();
  std::optional<Dataset<float>> validation;
  if (!IsEmptyTensor(request.validation_x()) ||
      request.validation_labels_size() > 0 ||
      !IsEmptyTensor(request.validation_targets())) {
    absl::StatusOr<Dataset<float>> view =
        DatasetFromProto(request.validation_x(), request.validation_labels(),
                         request.validation_targets(), "validation_");
    if (!view.ok()) return view.status();
    validation.emplace(*view);
  }

  TrainOptions options;
  options.epochs = request.epochs();
  options.batch_size = request.batch_size();
  options.shuffle_seed = request.shuffle_seed();
  options.schedule = request.learning_rate_schedule() == v1::COSINE
                         ? LearningRateSchedule::kCosine
                         : LearningRateSchedule::kConstant;
  options.progress_interval_seconds = progress_interval_seconds;
  OptimizerOptions& optimizer = options.optimizer;
  const bool adam = request.optimizer() == v1::ADAM;
  optimizer.kind = adam ? OptimizerKind::kAdam : OptimizerKind::kSgd;
  // Exactly 0 means unset; NaN and negatives go on to validation.
  optimizer.learning_rate = request.learning_rate() != 0.0f
                                ? request.learning_rate()
                                : (adam ? 0.001 : 0.05);
  if (!adam && request.has_momentum()) optimizer.momentum = request.momentum();
  optimizer.nesterov = request.nesterov();
  optimizer.weight_decay = request.weight_decay();
  return TrainInputs{*train, validation, options};
}

v1::TrainingState TrainingStateToProto(TrainingState state) {
  switch (state) {
    case TrainingState::kTraining:
      return v1::TRAINING;
    case TrainingState::kTrained:
      return v1::TRAINED;
    case TrainingState::kCancelled:
      return v1::TRAINING_CANCELLED;
    case TrainingState::kFailed:
      return v1::TRAINING_FAILED;
    case TrainingState::kUntrained:
      break;
  }
  return v1::UNTRAINED;
}

void ProgressToProto(const ProgressRecord& record,
                     v1::TrainProgress* progress) {
  const TrainingProgress& p = record.progress;
  progress->set_epoch(p.epoch);
  progress->set_epochs(p.epochs);
  progress->set_batch(static_cast<int32_t>(p.batch));
  progress->set_batches_per_epoch(static_cast<int32_t>(p.batches_per_epoch));
  progress->set_loss(p.loss);
  progress->set_accuracy(p.accuracy);
  progress->set_has_validation(p.has_validation);
  progress->set_validation_loss(p.validation_loss);
  progress->set_validation_accuracy(p.validation_accuracy);
  progress->set_samples_per_second(p.samples_per_second);
  progress->set_elapsed_seconds(p.elapsed_seconds);
  progress->set_epoch_end(p.epoch_end);
  progress->set_version(record.version);
  progress->set_done(record.done);
}

void ModelStatusToProto(const ModelStatus& status, v1::ModelInfo* info) {
  const ModelConfig& config = status.config;
  info->set_name(status.name);
  info->mutable_layer_sizes()->Add(config.layer_sizes.begin(),
                                   config.layer_sizes.end());
  info->set_task(TaskToProto(config.task));
  info->set_normalization(NormalizationToProto(config.normalization));
  info->set_activation(ActivationToProto(config.activation));
  info->set_batch_norm_momentum(config.batch_norm_momentum);
  info->set_batch_norm_epsilon(config.batch_norm_epsilon);
  info->set_seed(config.seed);
  info->set_version(status.version);
  info->set_parameter_count(status.parameter_count);
  info->set_training_state(TrainingStateToProto(status.training_state));
  if (status.last_progress.has_value()) {
    ProgressToProto(*status.last_progress, info->mutable_last_progress());
  }
  info->set_last_error(status.last_error);
}

void ParametersToProto(const Model<float>& model,
                       v1::GetParametersResponse* response) {
  const std::vector<int64_t>& sizes = model.config().layer_sizes;
  response->mutable_layer_sizes()->Add(sizes.begin(), sizes.end());
  for (const LayerParameters<float>& layer : model.layers()) {
    v1::LayerParameters* out = response->add_layers();
    CopyToTensor(layer.weight.data(),
                 {layer.weight.rows(), layer.weight.cols()},
                 out->mutable_weight());
    VectorToTensor(layer.bias, out->mutable_bias());
    VectorToTensor(layer.gamma, out->mutable_gamma());
    VectorToTensor(layer.beta, out->mutable_beta());
    VectorToTensor(layer.running_mean, out->mutable_running_mean());
    VectorToTensor(layer.running_var, out->mutable_running_var());
  }
}

}  // namespace bnmlp
