#include "server/request_conversion.h"

#include "common/api_defaults.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server/server_test_util.h"

namespace bnmlp {
namespace {

using ::bnmlp::testing::MakeTensor;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

void ExpectInvalid(const absl::Status& status, const std::string& substring) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(status.message(), HasSubstr(substring));
}

TEST(ModelConfigFromProtoTest, UnsetFieldsTakeTheDocumentedDefaults) {
  v1::CreateModelRequest request;
  request.mutable_layer_sizes()->Add(4);
  request.mutable_layer_sizes()->Add(3);
  absl::StatusOr<ModelConfig> config = ModelConfigFromProto(request);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_THAT(config->layer_sizes, ElementsAre(4, 3));
  EXPECT_EQ(config->task, Task::kClassification);
  EXPECT_EQ(config->normalization, Normalization::kPreActivation);
  EXPECT_EQ(config->activation, Activation::kRelu);
  EXPECT_EQ(config->batch_norm_momentum, api_defaults::kBatchNormMomentum);
  EXPECT_EQ(config->batch_norm_epsilon, api_defaults::kBatchNormEpsilon);
  EXPECT_EQ(config->seed, api_defaults::kSeed);
}

TEST(ModelConfigFromProtoTest, SetFieldsAreTaken) {
  v1::CreateModelRequest request;
  request.set_task(v1::TASK_REGRESSION);
  request.set_normalization(v1::NORMALIZATION_POST_ACTIVATION);
  request.set_activation(v1::ACTIVATION_TANH);
  request.set_seed(99);
  request.set_batch_norm_momentum(0.0);  // set to 0 is not "unset"
  request.set_batch_norm_epsilon(1e-3);
  absl::StatusOr<ModelConfig> config = ModelConfigFromProto(request);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->task, Task::kRegression);
  EXPECT_EQ(config->normalization, Normalization::kPostActivation);
  EXPECT_EQ(config->activation, Activation::kTanh);
  EXPECT_EQ(config->seed, 99u);
  EXPECT_EQ(config->batch_norm_momentum, 0.0);
  EXPECT_EQ(config->batch_norm_epsilon, 1e-3);
}

TEST(ModelConfigFromProtoTest, UnknownEnumValuesAreInvalid) {
  v1::CreateModelRequest request;
  request.set_task(static_cast<v1::Task>(7));
  ExpectInvalid(ModelConfigFromProto(request).status(), "task: expected");
  request.set_task(v1::TASK_CLASSIFICATION);
  request.set_activation(static_cast<v1::Activation>(-1));
  ExpectInvalid(ModelConfigFromProto(request).status(), "activation:");
  request.set_activation(v1::ACTIVATION_RELU);
  request.set_normalization(static_cast<v1::Normalization>(9));
  ExpectInvalid(ModelConfigFromProto(request).status(), "normalization:");
}

v1::TrainRequest TwoSamples() {
  v1::TrainRequest request;
  *request.mutable_x() = MakeTensor({2, 2}, {1, 2, 3, 4});
  request.add_labels(0);
  request.add_labels(1);
  return request;
}

TEST(TrainRequestFromProtoTest, ViewsTheDataAndFillsEveryDefault) {
  const v1::TrainRequest request = TwoSamples();
  absl::StatusOr<TrainRequestViews> inputs =
      TrainRequestFromProto(request, 0.25);
  ASSERT_TRUE(inputs.ok()) << inputs.status();
  EXPECT_EQ(inputs->train.x.data(), request.x().values().data());
  EXPECT_EQ(inputs->train.labels.data(), request.labels().data());
  EXPECT_EQ(inputs->train.size(), 2);
  EXPECT_FALSE(inputs->validation.has_value());
  const TrainOptions& options = inputs->options;
  EXPECT_EQ(options.epochs, api_defaults::kEpochs);
  EXPECT_EQ(options.batch_size, api_defaults::kBatchSize);
  EXPECT_EQ(options.shuffle_seed, api_defaults::kShuffleSeed);
  EXPECT_EQ(options.progress_interval_seconds, 0.25);
  EXPECT_EQ(options.optimizer.kind, OptimizerKind::kSgd);
  EXPECT_DOUBLE_EQ(options.optimizer.learning_rate,
                   api_defaults::kSgdLearningRate);
  EXPECT_DOUBLE_EQ(options.optimizer.momentum, api_defaults::kSgdMomentum);
  EXPECT_DOUBLE_EQ(options.optimizer.weight_decay, api_defaults::kWeightDecay);
  EXPECT_FALSE(options.optimizer.nesterov);
  EXPECT_EQ(options.schedule, LearningRateSchedule::kConstant);
}

TEST(TrainRequestFromProtoTest, SetFieldsAreTaken) {
  v1::TrainRequest request = TwoSamples();
  request.set_epochs(3);
  request.set_batch_size(2);
  request.set_shuffle_seed(5);
  request.set_learning_rate_schedule(v1::LEARNING_RATE_SCHEDULE_COSINE);
  request.set_momentum(0);  // explicitly 0 is honoured
  request.set_learning_rate(0.5f);
  request.set_weight_decay(0.25f);
  absl::StatusOr<TrainRequestViews> sgd = TrainRequestFromProto(request, 0.5);
  ASSERT_TRUE(sgd.ok()) << sgd.status();
  EXPECT_EQ(sgd->options.epochs, 3);
  EXPECT_EQ(sgd->options.batch_size, 2);
  EXPECT_EQ(sgd->options.shuffle_seed, 5u);
  EXPECT_DOUBLE_EQ(sgd->options.optimizer.momentum, 0.0);
  EXPECT_DOUBLE_EQ(sgd->options.optimizer.learning_rate, 0.5);
  EXPECT_DOUBLE_EQ(sgd->options.optimizer.weight_decay, 0.25);
  EXPECT_EQ(sgd->options.schedule, LearningRateSchedule::kCosine);
}

TEST(TrainRequestFromProtoTest, AdamHasItsOwnLearningRateAndNoMomentum) {
  v1::TrainRequest request = TwoSamples();
  request.set_optimizer(v1::OPTIMIZER_ADAM);
  request.set_momentum(5);  // not used by Adam, so not validated either
  absl::StatusOr<TrainRequestViews> adam = TrainRequestFromProto(request, 0.5);
  ASSERT_TRUE(adam.ok()) << adam.status();
  EXPECT_EQ(adam->options.optimizer.kind, OptimizerKind::kAdam);
  EXPECT_DOUBLE_EQ(adam->options.optimizer.learning_rate,
                   api_defaults::kAdamLearningRate);
  EXPECT_TRUE(ValidateTrainOptions(adam->options).ok());
}

TEST(TrainRequestFromProtoTest, ValidationDataNeedsValidationX) {
  v1::TrainRequest request = TwoSamples();
  request.add_validation_labels(0);
  ExpectInvalid(TrainRequestFromProto(request, 0.5).status(),
                "validation_labels: 1 labels given without validation_x");
  request.clear_validation_labels();
  *request.mutable_validation_targets() = MakeTensor({1, 1}, {1});
  ExpectInvalid(TrainRequestFromProto(request, 0.5).status(),
                "validation_targets: given without validation_x");
  *request.mutable_validation_x() = MakeTensor({1, 2}, {1, 2});
  absl::StatusOr<TrainRequestViews> inputs =
      TrainRequestFromProto(request, 0.5);
  ASSERT_TRUE(inputs.ok()) << inputs.status();
  ASSERT_TRUE(inputs->validation.has_value());
  EXPECT_EQ(inputs->validation->size(), 1);
}

TEST(TrainRequestFromProtoTest, ReportsTheTensorFieldAtFault) {
  v1::TrainRequest request = TwoSamples();
  *request.mutable_validation_x() = MakeTensor({2, 1}, {1});
  ExpectInvalid(TrainRequestFromProto(request, 0.5).status(),
                "validation_x: shape [2, 1]");
  request.clear_validation_x();
  *request.mutable_targets() = MakeTensor({2}, {1, 2});
  ExpectInvalid(TrainRequestFromProto(request, 0.5).status(), "targets: ");
  request.clear_targets();
  request.set_optimizer(static_cast<v1::Optimizer>(9));
  ExpectInvalid(TrainRequestFromProto(request, 0.5).status(),
                "optimizer: expected one of");
  request.set_optimizer(v1::OPTIMIZER_SGD);
  request.set_learning_rate_schedule(static_cast<v1::LearningRateSchedule>(4));
  ExpectInvalid(TrainRequestFromProto(request, 0.5).status(),
                "learning_rate_schedule: expected one of");
}

TEST(PredictSamplesFromProtoTest, ViewsXAndRequiresIt) {
  v1::PredictRequest request;
  ExpectInvalid(PredictSamplesFromProto(request).status(),
                "x: required: expected shape [N, inputs] with N >= 1, got an "
                "empty tensor");
  *request.mutable_x() = MakeTensor({2, 3}, {1, 2, 3, 4, 5, 6});
  absl::StatusOr<ConstMatrixMap<float>> x = PredictSamplesFromProto(request);
  ASSERT_TRUE(x.ok()) << x.status();
  EXPECT_EQ(x->data(), request.x().values().data());
  EXPECT_EQ(x->rows(), 3);
  EXPECT_EQ(x->cols(), 2);
}

}  // namespace
}  // namespace bnmlp
