// The bnmlp.v1 enums and the engine's, both ways: the one place where an
// enum value of the API meets the engine's, and where *_UNSPECIFIED becomes
// the documented default.
#ifndef BNMLP_SERVER_API_ENUMS_H_
#define BNMLP_SERVER_API_ENUMS_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "bnmlp/v1/bnmlp.pb.h"
#include "core/model_config.h"
#include "core/optimizer.h"
#include "core/trainer.h"
#include "server/model_files.h"
#include "server/model_registry.h"

namespace bnmlp {

// Request enums: *_UNSPECIFIED means the default the .proto documents
// (classification, pre-activation, ReLU, SGD, constant schedule, the
// native file format). A number
// the enum does not declare is INVALID_ARGUMENT naming `field` and listing
// the accepted names.
absl::StatusOr<Task> TaskFromProto(int value, absl::string_view field);
absl::StatusOr<Normalization> NormalizationFromProto(int value,
                                                     absl::string_view field);
absl::StatusOr<Activation> ActivationFromProto(int value,
                                               absl::string_view field);
absl::StatusOr<OptimizerKind> OptimizerFromProto(int value,
                                                 absl::string_view field);
absl::StatusOr<LearningRateSchedule> ScheduleFromProto(int value,
                                                       absl::string_view field);
// FORMAT_UNSPECIFIED means FORMAT_BNMLP.
absl::StatusOr<ModelFileFormat> FormatFromProto(int value,
                                                absl::string_view field);

// Response enums: never *_UNSPECIFIED.
v1::Task TaskToProto(Task task);
v1::Normalization NormalizationToProto(Normalization normalization);
v1::Activation ActivationToProto(Activation activation);
v1::TrainingState TrainingStateToProto(TrainingState state);
v1::Optimizer OptimizerToProto(OptimizerKind kind);
// For the model store's files, which keep the API's numbers:
// TRAINING_STATE_UNSPECIFIED or an undeclared number is INVALID_ARGUMENT.
absl::StatusOr<TrainingState> TrainingStateFromProto(int value,
                                                     absl::string_view field);

}  // namespace bnmlp

#endif  // BNMLP_SERVER_API_ENUMS_H_
