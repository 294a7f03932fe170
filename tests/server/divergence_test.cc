// Training that diverges, through the server (issue 11, item 5): finite
// inputs of 3e38, a learning rate or weight decay of 1e30, and a 1000-layer
// sigmoid post-activation model with default settings. Each run ends
// INVALID_ARGUMENT saying where it diverged, the model shows
// TRAINING_FAILED with that message, no non-finite version is published,
// and the last good version keeps serving finite predictions. Options that
// float cannot hold (batch_norm_epsilon 1e-50) are refused up front.
#include <cmath>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server/server_test_util.h"

namespace bnmlp {
namespace {

using ::bnmlp::testing::ClassifierRequest;
using ::bnmlp::testing::Context;
using ::bnmlp::testing::CreateOrDie;
using ::bnmlp::testing::InProcessServer;
using ::bnmlp::testing::ModelOrDie;
using ::bnmlp::testing::ParametersOrDie;
using ::bnmlp::testing::RunTrain;
using ::bnmlp::testing::StatusIs;
using ::bnmlp::testing::ToyData;
using ::bnmlp::testing::TrainRequestFor;
using ::bnmlp::testing::TrainResult;
using ::bnmlp::testing::TwoBlobs;
using ::testing::HasSubstr;

bool AllFinite(const v1::Tensor& tensor) {
  for (const float v : tensor.values()) {
    if (!std::isfinite(v)) return false;
  }
  return true;
}

class DivergenceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<InProcessServer>> server =
        InProcessServer::Start();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  v1::BnMlpService::Stub& stub() { return server_->stub(); }

  // Creates `request`'s model and trains it one good epoch: version 2.
  void CreateWithAGoodVersion(const v1::CreateModelRequest& request) {
    CreateOrDie(stub(), request);
    const TrainResult good =
        RunTrain(stub(), TrainRequestFor(request.name(), data_, 1, 16));
    ASSERT_TRUE(good.status.ok()) << good.status.error_message();
    ASSERT_EQ(ModelOrDie(stub(), request.name()).version(), 2);
  }

  // Runs `train` and checks everything a divergence must leave behind.
  void ExpectDivergesAndKeepsVersion(const v1::TrainRequest& train,
                                     int64_t kept_version) {
    const TrainResult result = RunTrain(stub(), train);
    EXPECT_THAT(result.status, StatusIs(grpc::StatusCode::INVALID_ARGUMENT,
                                        "training diverged in epoch "));
    EXPECT_THAT(result.status.error_message(), HasSubstr(" at batch "));
    EXPECT_THAT(
        result.status.error_message(),
        HasSubstr("; the model keeps version " + std::to_string(kept_version)));
    for (const v1::TrainResponse& message : result.messages) {
      EXPECT_NE(message.event_case(), v1::TrainResponse::kEpochEnd)
          << "an epoch that diverged was published";
    }
    const v1::ModelInfo info = ModelOrDie(stub(), train.name());
    EXPECT_EQ(info.training_state(), v1::TRAINING_STATE_FAILED);
    EXPECT_THAT(info.last_error(), HasSubstr("training diverged"));
    EXPECT_EQ(info.version(), kept_version);

    const v1::GetParametersResponse parameters =
        ParametersOrDie(stub(), train.name());
    for (const v1::LayerParameters& layer : parameters.layers()) {
      for (const v1::Tensor* t :
           {&layer.weight(), &layer.bias(), &layer.gamma(), &layer.beta(),
            &layer.running_mean(), &layer.running_var()}) {
        EXPECT_TRUE(AllFinite(*t));
      }
    }
    v1::PredictRequest predict;
    predict.set_name(train.name());
    *predict.mutable_x() = data_.x;
    v1::PredictResponse response;
    const grpc::Status status =
        stub().Predict(Context().get(), predict, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.version(), kept_version);
    EXPECT_TRUE(AllFinite(response.outputs()));
  }

  const ToyData data_ = TwoBlobs(64, 5);
  std::unique_ptr<InProcessServer> server_;
};

TEST_F(DivergenceTest, FiniteInputsOf3e38) {
  CreateWithAGoodVersion(ClassifierRequest("big_inputs", {2, 8, 2}));
  v1::TrainRequest train = TrainRequestFor("big_inputs", data_, 3, 16);
  for (int i = 0; i < train.x().values_size(); ++i) {
    train.mutable_x()->set_values(i, i % 2 == 0 ? 3e38f : -3e38f);
  }
  ExpectDivergesAndKeepsVersion(train, 2);
}

TEST_F(DivergenceTest, ALearningRateOf1e30) {
  CreateWithAGoodVersion(ClassifierRequest("big_lr", {2, 8, 2}));
  v1::TrainRequest train = TrainRequestFor("big_lr", data_, 3, 16);
  train.set_learning_rate(1e30f);
  ExpectDivergesAndKeepsVersion(train, 2);
}

TEST_F(DivergenceTest, AWeightDecayOf1e30) {
  CreateWithAGoodVersion(ClassifierRequest("big_decay", {2, 8, 2}));
  v1::TrainRequest train = TrainRequestFor("big_decay", data_, 3, 16);
  train.set_weight_decay(1e30f);
  ExpectDivergesAndKeepsVersion(train, 2);
}

TEST_F(DivergenceTest, ADeepSigmoidPostActivationModelWithDefaults) {
  // 1000 layers of width 64 (the most the server allows), sigmoid,
  // batch norm after the activation, every training option left at its
  // default: NaN within the first epoch.
  std::vector<int64_t> sizes = {2};
  sizes.insert(sizes.end(), 999, 64);
  sizes.push_back(2);
  v1::CreateModelRequest create = ClassifierRequest("deep", sizes);
  create.set_activation(v1::ACTIVATION_SIGMOID);
  create.set_normalization(v1::NORMALIZATION_POST_ACTIVATION);
  CreateOrDie(stub(), create);
  v1::TrainRequest train;
  train.set_name("deep");
  *train.mutable_x() = data_.x;
  train.mutable_labels()->Add(data_.labels.begin(), data_.labels.end());
  train.set_epochs(3);
  ExpectDivergesAndKeepsVersion(train, 1);
}

TEST_F(DivergenceTest, AnEpsilonFloatRoundsToZeroIsRefused) {
  v1::CreateModelRequest create = ClassifierRequest("tiny_eps", {2, 8, 2});
  create.set_batch_norm_epsilon(1e-50);
  v1::ModelInfo info;
  EXPECT_THAT(stub().CreateModel(Context().get(), create, &info),
              StatusIs(grpc::StatusCode::INVALID_ARGUMENT,
                       "batch_norm_epsilon must be representable in float32"));
}

}  // namespace
}  // namespace bnmlp
