#include "server/api_enums.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "google/protobuf/descriptor.h"

namespace bnmlp {
namespace {

// INVALID_ARGUMENT unless `value` is one of the enum's declared numbers.
absl::Status CheckDeclared(int value,
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

}  // namespace

absl::StatusOr<Task> TaskFromProto(int value, absl::string_view field) {
  BNMLP_RETURN_IF_ERROR(CheckDeclared(value, v1::Task_descriptor(), field));
  return value == v1::TASK_REGRESSION ? Task::kRegression
                                      : Task::kClassification;
}

absl::StatusOr<Normalization> NormalizationFromProto(int value,
                                                     absl::string_view field) {
  BNMLP_RETURN_IF_ERROR(
      CheckDeclared(value, v1::Normalization_descriptor(), field));
  switch (value) {
    case v1::NORMALIZATION_POST_ACTIVATION:
      return Normalization::kPostActivation;
    case v1::NORMALIZATION_NONE:
      return Normalization::kNone;
    default:  // NORMALIZATION_PRE_ACTIVATION and UNSPECIFIED
      return Normalization::kPreActivation;
  }
}

absl::StatusOr<Activation> ActivationFromProto(int value,
                                               absl::string_view field) {
  BNMLP_RETURN_IF_ERROR(
      CheckDeclared(value, v1::Activation_descriptor(), field));
  switch (value) {
    case v1::ACTIVATION_TANH:
      return Activation::kTanh;
    case v1::ACTIVATION_SIGMOID:
      return Activation::kSigmoid;
    case v1::ACTIVATION_IDENTITY:
      return Activation::kIdentity;
    default:  // ACTIVATION_RELU and UNSPECIFIED
      return Activation::kRelu;
  }
}

absl::StatusOr<OptimizerKind> OptimizerFromProto(int value,
                                                 absl::string_view field) {
  BNMLP_RETURN_IF_ERROR(
      CheckDeclared(value, v1::Optimizer_descriptor(), field));
  return value == v1::OPTIMIZER_ADAM ? OptimizerKind::kAdam
                                     : OptimizerKind::kSgd;
}

absl::StatusOr<LearningRateSchedule> ScheduleFromProto(
    int value, absl::string_view field) {
  BNMLP_RETURN_IF_ERROR(
      CheckDeclared(value, v1::LearningRateSchedule_descriptor(), field));
  return value == v1::LEARNING_RATE_SCHEDULE_COSINE
             ? LearningRateSchedule::kCosine
             : LearningRateSchedule::kConstant;
}

absl::StatusOr<ModelFileFormat> FormatFromProto(int value,
                                                absl::string_view field) {
  BNMLP_RETURN_IF_ERROR(CheckDeclared(value, v1::Format_descriptor(), field));
  return value == v1::FORMAT_ONNX ? ModelFileFormat::kOnnx
                                  : ModelFileFormat::kBnmlp;
}

v1::Task TaskToProto(Task task) {
  return task == Task::kRegression ? v1::TASK_REGRESSION
                                   : v1::TASK_CLASSIFICATION;
}

v1::Normalization NormalizationToProto(Normalization normalization) {
  switch (normalization) {
    case Normalization::kPostActivation:
      return v1::NORMALIZATION_POST_ACTIVATION;
    case Normalization::kNone:
      return v1::NORMALIZATION_NONE;
    case Normalization::kPreActivation:
      break;
  }
  return v1::NORMALIZATION_PRE_ACTIVATION;
}

v1::Activation ActivationToProto(Activation activation) {
  switch (activation) {
    case Activation::kTanh:
      return v1::ACTIVATION_TANH;
    case Activation::kSigmoid:
      return v1::ACTIVATION_SIGMOID;
    case Activation::kIdentity:
      return v1::ACTIVATION_IDENTITY;
    case Activation::kRelu:
      break;
  }
  return v1::ACTIVATION_RELU;
}

v1::TrainingState TrainingStateToProto(TrainingState state) {
  switch (state) {
    case TrainingState::kTraining:
      return v1::TRAINING_STATE_TRAINING;
    case TrainingState::kTrained:
      return v1::TRAINING_STATE_TRAINED;
    case TrainingState::kCancelled:
      return v1::TRAINING_STATE_CANCELLED;
    case TrainingState::kInterrupted:
      return v1::TRAINING_STATE_INTERRUPTED;
    case TrainingState::kFailed:
      return v1::TRAINING_STATE_FAILED;
    case TrainingState::kUntrained:
      break;
  }
  return v1::TRAINING_STATE_UNTRAINED;
}

v1::Optimizer OptimizerToProto(OptimizerKind kind) {
  return kind == OptimizerKind::kAdam ? v1::OPTIMIZER_ADAM : v1::OPTIMIZER_SGD;
}

absl::StatusOr<TrainingState> TrainingStateFromProto(int value,
                                                     absl::string_view field) {
  switch (value) {
    case v1::TRAINING_STATE_UNTRAINED:
      return TrainingState::kUntrained;
    case v1::TRAINING_STATE_TRAINING:
      return TrainingState::kTraining;
    case v1::TRAINING_STATE_TRAINED:
      return TrainingState::kTrained;
    case v1::TRAINING_STATE_CANCELLED:
      return TrainingState::kCancelled;
    case v1::TRAINING_STATE_FAILED:
      return TrainingState::kFailed;
    case v1::TRAINING_STATE_INTERRUPTED:
      return TrainingState::kInterrupted;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat(field,
                       ": expected a declared TrainingState other than "
                       "TRAINING_STATE_UNSPECIFIED, got ",
                       value));
  }
}

}  // namespace bnmlp
