// A model trained through the service and the same model trained directly
// with the engine (same seeds, same options) are bit-identical: the wire
// adds nothing and loses nothing.
#include <cstring>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "core/dataset.h"
#include "core/inference_model.h"
#include "core/model.h"
#include "core/predict.h"
#include "core/trainer.h"
#include "gtest/gtest.h"
#include "tests/core/validated_train.h"
#include "tests/server/server_test_util.h"

namespace bnmlp::testing {
namespace {

struct ParityCase {
  std::string label;
  v1::Normalization normalization;
  v1::Optimizer optimizer;
  v1::Task task;
  v1::LearningRateSchedule schedule = v1::LEARNING_RATE_SCHEDULE_CONSTANT;
};

void PrintTo(const ParityCase& parity_case, std::ostream* os) {
  *os << parity_case.label;
}

void ExpectBitIdentical(const v1::Tensor& tensor, const float* expected,
                        int64_t count, const std::string& what) {
  ASSERT_EQ(tensor.values_size(), count) << what;
  if (count == 0) return;  // absent part; memcmp must not see null
  EXPECT_EQ(std::memcmp(tensor.values().data(), expected,
                        sizeof(float) * static_cast<size_t>(count)),
            0)
      << what << " differs";
}

class ParityTest : public ::testing::TestWithParam<ParityCase> {};

TEST_P(ParityTest, ServiceTrainingMatchesEngineTrainingBitForBit) {
  const ParityCase& param = GetParam();
  absl::StatusOr<std::unique_ptr<InProcessServer>> server =
      InProcessServer::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  v1::BnMlpService::Stub& stub = (*server)->stub();

  // Through the service.
  const bool regression = param.task == v1::TASK_REGRESSION;
  v1::CreateModelRequest create = ClassifierRequest("m", {2, 6, 5, 2}, 1234);
  create.set_normalization(param.normalization);
  create.set_task(param.task);
  CreateOrDie(stub, create);
  const ToyData data = TwoBlobs(40, 17);
  v1::TrainRequest train = TrainRequestFor("m", data, /*epochs=*/3,
                                           /*batch_size=*/8);
  train.set_optimizer(param.optimizer);
  train.set_learning_rate_schedule(param.schedule);
  train.set_learning_rate(0.02f);
  train.set_weight_decay(0.001f);
  train.set_shuffle_seed(99);
  std::vector<float> targets;
  if (regression) {
    train.clear_labels();
    for (int32_t label : data.labels) {
      targets.push_back(label == 0 ? 1.0f : -1.0f);
      targets.push_back(label == 0 ? 0.5f : 2.0f);
    }
    *train.mutable_targets() = MakeTensor({40, 2}, targets);
  }
  const TrainResult result = RunTrain(stub, train);
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  const v1::GetParametersResponse served = ParametersOrDie(stub, "m");

  // Directly with the engine, configured by hand (not by the converters).
  ModelConfig config;
  config.layer_sizes = {2, 6, 5, 2};
  config.seed = 1234;
  config.task = regression ? Task::kRegression : Task::kClassification;
  config.normalization =
      param.normalization == v1::NORMALIZATION_POST_ACTIVATION
          ? Normalization::kPostActivation
      : param.normalization == v1::NORMALIZATION_NONE
          ? Normalization::kNone
          : Normalization::kPreActivation;
  absl::StatusOr<Model<float>> model = Model<float>::Create(config);
  ASSERT_TRUE(model.ok());
  TrainOptions options;
  options.epochs = 3;
  options.batch_size = 8;
  options.shuffle_seed = 99;
  options.optimizer.kind = param.optimizer == v1::OPTIMIZER_ADAM
                               ? OptimizerKind::kAdam
                               : OptimizerKind::kSgd;
  options.schedule = param.schedule == v1::LEARNING_RATE_SCHEDULE_COSINE
                         ? LearningRateSchedule::kCosine
                         : LearningRateSchedule::kConstant;
  options.optimizer.learning_rate = 0.02f;  // the float the wire carries
  options.optimizer.weight_decay = 0.001f;
  const std::vector<int32_t> labels = data.labels;
  Dataset<float> direct_data{
      ConstMatrixMap<float>(data.x.values().data(), 2, 40),
      regression ? absl::Span<const int32_t>() : absl::MakeConstSpan(labels),
      regression ? ConstMatrixMap<float>(targets.data(), 2, 40)
                 : ConstMatrixMap<float>(nullptr, 0, 0)};
  absl::StatusOr<TrainingProgress> trained =
      ValidateAndTrain(&*model, direct_data, nullptr, options);
  ASSERT_TRUE(trained.ok()) << trained.status();

  EXPECT_EQ(result.LastFigures().loss(), trained->loss);
  ASSERT_EQ(served.layers_size(), model->num_layers());
  for (int i = 0; i < model->num_layers(); ++i) {
    const LayerParameters<float>& layer = model->layer(i);
    const v1::LayerParameters& wire = served.layers(i);
    const std::string at = " of layer " + std::to_string(i);
    ExpectBitIdentical(wire.weight(), layer.weight.data(), layer.weight.size(),
                       "weight" + at);
    ExpectBitIdentical(wire.bias(), layer.bias.data(), layer.bias.size(),
                       "bias" + at);
    ExpectBitIdentical(wire.gamma(), layer.gamma.data(), layer.gamma.size(),
                       "gamma" + at);
    ExpectBitIdentical(wire.beta(), layer.beta.data(), layer.beta.size(),
                       "beta" + at);
    ExpectBitIdentical(wire.running_mean(), layer.running_mean.data(),
                       layer.running_mean.size(), "running_mean" + at);
    ExpectBitIdentical(wire.running_var(), layer.running_var.data(),
                       layer.running_var.size(), "running_var" + at);
  }

  // Predict through the wire equals the engine's serving Predict (BatchNorm
  // folded into the weights), bit for bit, and the unfolded reference within
  // rounding.
  v1::PredictRequest predict;
  predict.set_name("m");
  *predict.mutable_x() = data.x;
  v1::PredictResponse response;
  ASSERT_TRUE(stub.Predict(Context().get(), predict, &response).ok());
  const ConstMatrixMap<float> x(data.x.values().data(), 2, 40);
  const InferenceModel<float> inference =
      InferenceModel<float>::FromModel(*model);
  absl::StatusOr<PredictInput<float>> input =
      ValidatePredictInput(inference, x);
  ASSERT_TRUE(input.ok()) << input.status();
  Matrix<float> expected(2, 40);
  PredictWorkspace<float> workspace;
  ASSERT_TRUE(Predict(inference, *input,
                      MatrixMap<float>(expected.data(), 2, 40), workspace)
                  .ok());
  ExpectBitIdentical(response.outputs(), expected.data(), expected.size(),
                     "Predict outputs");
  Matrix<float> reference(2, 40);
  ASSERT_TRUE(
      Predict(*model, x, MatrixMap<float>(reference.data(), 2, 40)).ok());
  EXPECT_LE((reference - expected).cwiseAbs().maxCoeff(), 1e-5f);
}

// After a cancelled Train the model is exactly the last epoch it published:
// version V holds the same parameters as V - 1 epochs trained directly.
TEST(CancelParityTest, CancelledTrainingKeepsExactlyTheLastPublishedEpoch) {
  absl::StatusOr<std::unique_ptr<InProcessServer>> server =
      InProcessServer::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  v1::BnMlpService::Stub& stub = (*server)->stub();
  CreateOrDie(stub, ClassifierRequest("m", {2, 8, 2}, 5));
  const ToyData data = TwoBlobs(32, 3);
  {
    BackgroundTrain train(stub, TrainRequestFor("m", data, 100000, 8));
    ASSERT_TRUE(train.WaitForEpochEnds(2));
    train.Cancel();
    EXPECT_EQ(train.Join().error_code(), grpc::StatusCode::CANCELLED);
  }
  const absl::Time give_up = absl::Now() + absl::Seconds(60);
  while (ModelOrDie(stub, "m").training_state() ==
             v1::TRAINING_STATE_TRAINING &&
         absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  const v1::GetParametersResponse served = ParametersOrDie(stub, "m");
  ASSERT_GE(served.version(), 3);

  ModelConfig config;
  config.layer_sizes = {2, 8, 2};
  config.seed = 5;
  absl::StatusOr<Model<float>> model = Model<float>::Create(config);
  ASSERT_TRUE(model.ok());
  TrainOptions options;
  options.epochs = static_cast<int>(served.version() - 1);
  options.batch_size = 8;
  options.shuffle_seed = 3;
  options.optimizer.learning_rate = 0.1f;
  Dataset<float> direct_data{
      ConstMatrixMap<float>(data.x.values().data(), 2, 32),
      absl::MakeConstSpan(data.labels)};
  ASSERT_TRUE(ValidateAndTrain(&*model, direct_data, nullptr, options).ok());
  for (int i = 0; i < model->num_layers(); ++i) {
    const LayerParameters<float>& layer = model->layer(i);
    ExpectBitIdentical(served.layers(i).weight(), layer.weight.data(),
                       layer.weight.size(), "weight " + std::to_string(i));
    ExpectBitIdentical(served.layers(i).running_var(), layer.running_var.data(),
                       layer.running_var.size(),
                       "running_var " + std::to_string(i));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Configurations, ParityTest,
    ::testing::Values(
        ParityCase{"PreActivationSgd", v1::NORMALIZATION_PRE_ACTIVATION,
                   v1::OPTIMIZER_SGD, v1::TASK_CLASSIFICATION},
        ParityCase{"PostActivationAdam", v1::NORMALIZATION_POST_ACTIVATION,
                   v1::OPTIMIZER_ADAM, v1::TASK_CLASSIFICATION},
        ParityCase{"PreActivationSgdCosine", v1::NORMALIZATION_PRE_ACTIVATION,
                   v1::OPTIMIZER_SGD, v1::TASK_CLASSIFICATION,
                   v1::LEARNING_RATE_SCHEDULE_COSINE},
        ParityCase{"NoNormRegressionSgd", v1::NORMALIZATION_NONE,
                   v1::OPTIMIZER_SGD, v1::TASK_REGRESSION}),
    [](const ::testing::TestParamInfo<ParityCase>& info) {
      return info.param.label;
    });

}  // namespace
}  // namespace bnmlp::testing
