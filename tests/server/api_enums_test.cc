#include "server/api_enums.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bnmlp {
namespace {

using ::testing::HasSubstr;

void ExpectInvalid(const absl::Status& status, const std::string& substring) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(status.message(), HasSubstr(substring));
}

TEST(ApiEnumsTest, UnspecifiedMeansTheDocumentedDefault) {
  EXPECT_EQ(*TaskFromProto(v1::TASK_UNSPECIFIED, "task"),
            Task::kClassification);
  EXPECT_EQ(*NormalizationFromProto(v1::NORMALIZATION_UNSPECIFIED, "n"),
            Normalization::kPreActivation);
  EXPECT_EQ(*ActivationFromProto(v1::ACTIVATION_UNSPECIFIED, "a"),
            Activation::kRelu);
  EXPECT_EQ(*OptimizerFromProto(v1::OPTIMIZER_UNSPECIFIED, "o"),
            OptimizerKind::kSgd);
  EXPECT_EQ(*ScheduleFromProto(v1::LEARNING_RATE_SCHEDULE_UNSPECIFIED, "s"),
            LearningRateSchedule::kConstant);
  EXPECT_EQ(*FormatFromProto(v1::FORMAT_UNSPECIFIED, "f"),
            ModelFileFormat::kBnmlp);
}

TEST(ApiEnumsTest, EveryDeclaredValueMapsAndRoundTrips) {
  for (v1::Task task : {v1::TASK_CLASSIFICATION, v1::TASK_REGRESSION}) {
    EXPECT_EQ(TaskToProto(*TaskFromProto(task, "task")), task);
  }
  for (v1::Normalization n :
       {v1::NORMALIZATION_PRE_ACTIVATION, v1::NORMALIZATION_POST_ACTIVATION,
        v1::NORMALIZATION_NONE}) {
    EXPECT_EQ(NormalizationToProto(*NormalizationFromProto(n, "n")), n);
  }
  for (v1::Activation a : {v1::ACTIVATION_RELU, v1::ACTIVATION_TANH,
                           v1::ACTIVATION_SIGMOID, v1::ACTIVATION_IDENTITY}) {
    EXPECT_EQ(ActivationToProto(*ActivationFromProto(a, "a")), a);
  }
  EXPECT_EQ(*OptimizerFromProto(v1::OPTIMIZER_ADAM, "o"), OptimizerKind::kAdam);
  EXPECT_EQ(*OptimizerFromProto(v1::OPTIMIZER_SGD, "o"), OptimizerKind::kSgd);
  EXPECT_EQ(*ScheduleFromProto(v1::LEARNING_RATE_SCHEDULE_COSINE, "s"),
            LearningRateSchedule::kCosine);
  EXPECT_EQ(*ScheduleFromProto(v1::LEARNING_RATE_SCHEDULE_CONSTANT, "s"),
            LearningRateSchedule::kConstant);
  EXPECT_EQ(*FormatFromProto(v1::FORMAT_BNMLP, "f"), ModelFileFormat::kBnmlp);
  EXPECT_EQ(*FormatFromProto(v1::FORMAT_ONNX, "f"), ModelFileFormat::kOnnx);
}

TEST(ApiEnumsTest, UndeclaredNumbersAreInvalidAndListTheNames) {
  ExpectInvalid(TaskFromProto(7, "task").status(),
                "task: expected one of TASK_UNSPECIFIED (0), "
                "TASK_CLASSIFICATION (1), TASK_REGRESSION (2), got 7");
  ExpectInvalid(ActivationFromProto(-1, "activation").status(),
                "activation: expected one of");
  ExpectInvalid(NormalizationFromProto(4, "normalization").status(),
                "NORMALIZATION_NONE (3), got 4");
  ExpectInvalid(OptimizerFromProto(9, "optimizer").status(),
                "OPTIMIZER_ADAM (2), got 9");
  ExpectInvalid(ScheduleFromProto(3, "learning_rate_schedule").status(),
                "learning_rate_schedule: expected one of");
  ExpectInvalid(FormatFromProto(3, "format").status(),
                "FORMAT_ONNX (2), got 3");
}

TEST(ApiEnumsTest, TrainingStatesAreNeverUnspecified) {
  EXPECT_EQ(TrainingStateToProto(TrainingState::kUntrained),
            v1::TRAINING_STATE_UNTRAINED);
  EXPECT_EQ(TrainingStateToProto(TrainingState::kTraining),
            v1::TRAINING_STATE_TRAINING);
  EXPECT_EQ(TrainingStateToProto(TrainingState::kTrained),
            v1::TRAINING_STATE_TRAINED);
  EXPECT_EQ(TrainingStateToProto(TrainingState::kCancelled),
            v1::TRAINING_STATE_CANCELLED);
  EXPECT_EQ(TrainingStateToProto(TrainingState::kFailed),
            v1::TRAINING_STATE_FAILED);
}

}  // namespace
}  // namespace bnmlp
