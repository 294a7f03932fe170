#include "server/proto_conversion.h"

#include <cmath>
#include <limits>

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

TEST(SampleMatrixFromTensorTest, ViewsTheProtoBufferWithoutCopying) {
  const v1::Tensor tensor = MakeTensor({3, 2}, {1, 2, 3, 4, 5, 6});
  absl::StatusOr<ConstMatrixMap<float>> x = SampleMatrixFromTensor(tensor, "x");
  ASSERT_TRUE(x.ok()) << x.status();
  EXPECT_EQ(x->data(), tensor.values().data());
  EXPECT_EQ(x->rows(), 2);   // features
  EXPECT_EQ(x->cols(), 3);   // samples
  EXPECT_EQ((*x)(0, 1), 3);  // sample 1, feature 0
  EXPECT_EQ((*x)(1, 2), 6);
}

TEST(SampleMatrixFromTensorTest, EmptyTensorIsAnEmptyView) {
  absl::StatusOr<ConstMatrixMap<float>> x =
      SampleMatrixFromTensor(v1::Tensor(), "targets");
  ASSERT_TRUE(x.ok());
  EXPECT_EQ(x->size(), 0);
}

TEST(SampleMatrixFromTensorTest, RejectsWrongRank) {
  ExpectInvalid(
      SampleMatrixFromTensor(MakeTensor({6}, {1, 2, 3, 4, 5, 6}), "x").status(),
      "x: expected shape [N, features] (rank 2), got rank 1");
  ExpectInvalid(
      SampleMatrixFromTensor(MakeTensor({1, 2, 3}, {1, 2, 3, 4, 5, 6}), "x")
          .status(),
      "rank 3");
  ExpectInvalid(SampleMatrixFromTensor(MakeTensor({}, {1}), "x").status(),
                "rank 0");
}

TEST(SampleMatrixFromTensorTest, RejectsValueCountMismatch) {
  ExpectInvalid(SampleMatrixFromTensor(MakeTensor({3, 2}, {1, 2, 3, 4, 5}),
                                       "validation_x")
                    .status(),
                "validation_x: shape [3, 2] needs shape[0] * shape[1] values");
  ExpectInvalid(SampleMatrixFromTensor(MakeTensor({0, 2}, {1}), "x").status(),
                "got 1");
}

TEST(SampleMatrixFromTensorTest, HugeOrNegativeShapesDoNotOverflow) {
  ExpectInvalid(SampleMatrixFromTensor(
                    MakeTensor({int64_t{1} << 62, 4}, {1, 2, 3, 4}), "x")
                    .status(),
                "needs shape[0] * shape[1] values");
  ExpectInvalid(
      SampleMatrixFromTensor(MakeTensor({std::numeric_limits<int64_t>::max(),
                                         std::numeric_limits<int64_t>::max()},
                                        {1}),
                             "x")
          .status(),
      "x: shape");
  ExpectInvalid(
      SampleMatrixFromTensor(MakeTensor({-2, -3}, {1, 2, 3, 4, 5, 6}), "x")
          .status(),
      "negative dimension");
}

TEST(PredictInputFromTensorTest, ChecksSamplesFeaturesAndFiniteness) {
  EXPECT_TRUE(PredictInputFromTensor(MakeTensor({1, 2}, {1, 2}), 2, "x").ok());
  ExpectInvalid(PredictInputFromTensor(MakeTensor({0, 2}, {}), 2, "x").status(),
                "x: expected shape [N, 2] with N >= 1");
  ExpectInvalid(PredictInputFromTensor(v1::Tensor(), 2, "x").status(),
                "an empty tensor");
  ExpectInvalid(
      PredictInputFromTensor(MakeTensor({1, 3}, {1, 2, 3}), 2, "x").status(),
      "the model has 2 inputs");
  ExpectInvalid(
      PredictInputFromTensor(MakeTensor({2, 2}, {1, 2, NAN, 4}), 2, "x")
          .status(),
      "x: expected finite values, got nan at sample 1, feature 0");
  ExpectInvalid(
      PredictInputFromTensor(MakeTensor({1, 2}, {1, -INFINITY}), 2, "x")
          .status(),
      "-inf");
}

TEST(ShapeOutputTensorTest, ShapesAndExposesTheValues) {
  v1::Tensor tensor;
  MatrixMap<float> view = ShapeOutputTensor(2, 3, &tensor);
  EXPECT_THAT(tensor.shape(), ElementsAre(2, 3));
  ASSERT_EQ(tensor.values_size(), 6);
  view(2, 1) = 7;  // output 2 of sample 1: row-major [1][2]
  EXPECT_EQ(tensor.values(1 * 3 + 2), 7);
}

TEST(ModelConfigFromProtoTest, AppliesPyTorchDefaultsAndMapsEnums) {
  v1::CreateModelRequest request;
  request.mutable_layer_sizes()->Add(4);
  request.mutable_layer_sizes()->Add(3);
  request.set_task(v1::REGRESSION);
  request.set_normalization(v1::POST_ACTIVATION);
  request.set_activation(v1::TANH);
  request.set_seed(99);
  absl::StatusOr<ModelConfig> config = ModelConfigFromProto(request);
  ASSERT_TRUE(config.ok());
  EXPECT_THAT(config->layer_sizes, ElementsAre(4, 3));
  EXPECT_EQ(config->task, Task::kRegression);
  EXPECT_EQ(config->normalization, Normalization::kPostActivation);
  EXPECT_EQ(config->activation, Activation::kTanh);
  EXPECT_EQ(config->batch_norm_momentum, 0.1);
  EXPECT_EQ(config->batch_norm_epsilon, 1e-5);
  EXPECT_EQ(config->seed, 99u);

  request.set_batch_norm_momentum(0.0);  // set to 0 is not "unset"
  request.set_batch_norm_epsilon(1e-3);
  config = ModelConfigFromProto(request);
  EXPECT_EQ(config->batch_norm_momentum, 0.0);
  EXPECT_EQ(config->batch_norm_epsilon, 1e-3);
}

TEST(ModelConfigFromProtoTest, UnknownEnumValuesAreInvalid) {
  v1::CreateModelRequest request;
  request.set_task(static_cast<v1::Task>(7));
  ExpectInvalid(ModelConfigFromProto(request).status(),
                "task: expected one of CLASSIFICATION (0), REGRESSION (1), "
                "got 7");
  request.set_task(v1::CLASSIFICATION);
  request.set_activation(static_cast<v1::Activation>(-1));
  ExpectInvalid(ModelConfigFromProto(request).status(), "activation:");
  request.set_activation(v1::RELU);
  request.set_normalization(static_cast<v1::Normalization>(3));
  ExpectInvalid(ModelConfigFromProto(request).status(), "normalization:");
}

TEST(TrainInputsFromProtoTest, ViewsDataAndAppliesDocumentedDefaults) {
  v1::TrainRequest request;
  *request.mutable_x() = MakeTensor({2, 2}, {1, 2, 3, 4});
  request.add_labels(0);
  request.add_labels(1);
  request.set_epochs(3);
  request.set_batch_size(2);
  request.set_shuffle_seed(5);
  absl::StatusOr<TrainInputs> inputs = TrainInputsFromProto(request, 0.25);
  ASSERT_TRUE(inputs.ok()) << inputs.status();
  EXPECT_EQ(inputs->train.x.data(), request.x().values().data());
  EXPECT_EQ(inputs->train.labels.data(), request.labels().data());
  EXPECT_EQ(inputs->train.size(), 2);
  EXPECT_FALSE(inputs->validation.has_value());
  const TrainOptions& options = inputs->options;
  EXPECT_EQ(options.epochs, 3);
  EXPECT_EQ(options.batch_size, 2);
  EXPECT_EQ(options.shuffle_seed, 5u);
  EXPECT_EQ(options.progress_interval_seconds, 0.25);
  EXPECT_EQ(options.optimizer.kind, OptimizerKind::kSgd);
  EXPECT_DOUBLE_EQ(options.optimizer.learning_rate, 0.05);
  EXPECT_DOUBLE_EQ(options.optimizer.momentum, 0.9);
  EXPECT_EQ(options.schedule, LearningRateSchedule::kConstant);

  request.set_optimizer(v1::ADAM);
  request.set_momentum(5);  // ignored by Adam
  absl::StatusOr<TrainInputs> adam = TrainInputsFromProto(request, 0.5);
  ASSERT_TRUE(adam.ok());
  EXPECT_EQ(adam->options.optimizer.kind, OptimizerKind::kAdam);
  EXPECT_DOUBLE_EQ(adam->options.optimizer.learning_rate, 0.001);
  EXPECT_TRUE(ValidateTrainOptions(adam->options).ok());

  request.set_optimizer(v1::SGD);
  request.set_learning_rate_schedule(v1::COSINE);
  request.set_momentum(0);  // explicitly 0 is honoured
  request.set_learning_rate(0.5f);
  absl::StatusOr<TrainInputs> sgd = TrainInputsFromProto(request, 0.5);
  ASSERT_TRUE(sgd.ok());
  EXPECT_DOUBLE_EQ(sgd->options.optimizer.momentum, 0.0);
  EXPECT_DOUBLE_EQ(sgd->options.optimizer.learning_rate, 0.5);
  EXPECT_EQ(sgd->options.schedule, LearningRateSchedule::kCosine);
}

TEST(TrainInputsFromProtoTest, AnyValidationFieldMakesAValidationSet) {
  v1::TrainRequest request;
  *request.mutable_x() = MakeTensor({2, 1}, {1, 2});
  request.add_validation_labels(0);
  absl::StatusOr<TrainInputs> inputs = TrainInputsFromProto(request, 0.5);
  ASSERT_TRUE(inputs.ok());
  ASSERT_TRUE(inputs->validation.has_value());
  EXPECT_EQ(inputs->validation->size(), 0);  // ValidateDataset rejects it
  EXPECT_EQ(inputs->validation->labels.size(), 1u);
}

TEST(TrainInputsFromProtoTest, ReportsTheTensorFieldAtFault) {
  v1::TrainRequest request;
  *request.mutable_x() = MakeTensor({2, 1}, {1, 2});
  *request.mutable_validation_targets() = MakeTensor({2, 1}, {1});
  ExpectInvalid(TrainInputsFromProto(request, 0.5).status(),
                "validation_targets: shape [2, 1]");
  request.clear_validation_targets();
  *request.mutable_targets() = MakeTensor({2}, {1, 2});
  ExpectInvalid(TrainInputsFromProto(request, 0.5).status(), "targets: ");
  request.clear_targets();
  request.set_optimizer(static_cast<v1::Optimizer>(9));
  ExpectInvalid(TrainInputsFromProto(request, 0.5).status(),
                "optimizer: expected one of SGD (0), ADAM (1), got 9");
  request.set_optimizer(v1::SGD);
  request.set_learning_rate_schedule(static_cast<v1::LearningRateSchedule>(4));
  ExpectInvalid(TrainInputsFromProto(request, 0.5).status(),
                "learning_rate_schedule: expected one of CONSTANT (0), "
                "COSINE (1), got 4");
}

TEST(ParametersToProtoTest, LaysOutTensorsLikeTorch) {
  ModelConfig config;
  config.layer_sizes = {3, 4, 2};
  absl::StatusOr<Model<float>> model = Model<float>::Create(config);
  ASSERT_TRUE(model.ok());
  v1::GetParametersResponse response;
  ParametersToProto(*model, &response);
  EXPECT_THAT(response.layer_sizes(), ElementsAre(3, 4, 2));
  ASSERT_EQ(response.layers_size(), 2);
  const v1::LayerParameters& hidden = response.layers(0);
  EXPECT_THAT(hidden.weight().shape(), ElementsAre(4, 3));
  // weight[1][2] (row-major [out, in]) is the engine's weight(1, 2).
  EXPECT_EQ(hidden.weight().values(1 * 3 + 2), model->layer(0).weight(1, 2));
  EXPECT_EQ(hidden.bias().values_size(), 0);  // pre-activation: no bias
  EXPECT_EQ(hidden.bias().shape_size(), 0);
  EXPECT_THAT(hidden.gamma().shape(), ElementsAre(4));
  EXPECT_THAT(hidden.running_var().values(), ElementsAre(1, 1, 1, 1));
  const v1::LayerParameters& output = response.layers(1);
  EXPECT_THAT(output.weight().shape(), ElementsAre(2, 4));
  EXPECT_THAT(output.bias().shape(), ElementsAre(2));
  EXPECT_EQ(output.gamma().values_size(), 0);  // no BatchNorm on the output
}

TEST(ModelStatusToProtoTest, CarriesStateProgressAndError) {
  ModelStatus status;
  status.name = "m";
  status.config.layer_sizes = {2, 3, 2};
  status.config.activation = Activation::kSigmoid;
  status.parameter_count = 23;
  status.version = 4;
  status.training_state = TrainingState::kCancelled;
  status.last_error = "cancelled by the client";
  ProgressRecord record;
  record.progress.epoch = 3;
  record.progress.epochs = 10;
  record.progress.batch = 2;
  record.progress.batches_per_epoch = 5;
  record.progress.loss = 0.5;
  record.progress.has_validation = true;
  record.progress.validation_accuracy = 0.75;
  record.version = 4;
  record.done = true;
  status.last_progress = record;
  v1::ModelInfo info;
  ModelStatusToProto(status, &info);
  EXPECT_EQ(info.name(), "m");
  EXPECT_THAT(info.layer_sizes(), ElementsAre(2, 3, 2));
  EXPECT_EQ(info.activation(), v1::SIGMOID);
  EXPECT_EQ(info.normalization(), v1::PRE_ACTIVATION);
  EXPECT_EQ(info.batch_norm_momentum(), 0.1);
  EXPECT_EQ(info.parameter_count(), 23);
  EXPECT_EQ(info.version(), 4);
  EXPECT_EQ(info.training_state(), v1::TRAINING_CANCELLED);
  EXPECT_EQ(info.last_error(), "cancelled by the client");
  EXPECT_EQ(info.last_progress().epoch(), 3);
  EXPECT_EQ(info.last_progress().epochs(), 10);
  EXPECT_EQ(info.last_progress().batches_per_epoch(), 5);
  EXPECT_EQ(info.last_progress().loss(), 0.5);
  EXPECT_TRUE(info.last_progress().has_validation());
  EXPECT_EQ(info.last_progress().validation_accuracy(), 0.75);
  EXPECT_EQ(info.last_progress().version(), 4);
  EXPECT_TRUE(info.last_progress().done());
}

TEST(TrainingStateToProtoTest, MapsEveryState) {
  EXPECT_EQ(TrainingStateToProto(TrainingState::kUntrained), v1::UNTRAINED);
  EXPECT_EQ(TrainingStateToProto(TrainingState::kTraining), v1::TRAINING);
  EXPECT_EQ(TrainingStateToProto(TrainingState::kTrained), v1::TRAINED);
  EXPECT_EQ(TrainingStateToProto(TrainingState::kCancelled),
            v1::TRAINING_CANCELLED);
  EXPECT_EQ(TrainingStateToProto(TrainingState::kFailed), v1::TRAINING_FAILED);
}

}  // namespace
}  // namespace bnmlp
