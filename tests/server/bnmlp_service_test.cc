// BnMlpService through a real channel: every RPC's behaviour, Train's
// progress stream, cancellation, and calls made while training runs.
#include "server/bnmlp_service.h"

#include <chrono>
#include <cmath>
#include <memory>
#include <thread>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tests/server/server_test_util.h"

namespace bnmlp::testing {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class BnMlpServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<InProcessServer>> server =
        InProcessServer::Start();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  v1::BnMlpService::Stub& stub() { return server_->stub(); }

  // Polls GetModel until the model leaves TRAINING (a bound, not a timing
  // assertion: the test fails only if training never stops).
  v1::ModelInfo WaitUntilNotTraining(const std::string& name) {
    const absl::Time give_up = absl::Now() + absl::Seconds(60);
    v1::ModelInfo info = ModelOrDie(stub(), name);
    while (info.training_state() == v1::TRAINING_STATE_TRAINING &&
           absl::Now() < give_up) {
      absl::SleepFor(absl::Milliseconds(5));
      info = ModelOrDie(stub(), name);
    }
    EXPECT_NE(info.training_state(), v1::TRAINING_STATE_TRAINING);
    return info;
  }

  // A Train request that runs for the maximum epochs: stopped by the test.
  v1::TrainRequest EndlessTrain(const std::string& name) {
    return TrainRequestFor(name, TwoBlobs(32, 1), /*epochs=*/100000,
                           /*batch_size=*/8);
  }

  std::unique_ptr<InProcessServer> server_;
};

TEST_F(BnMlpServiceTest, CreateModelReportsTheArchitectureAtVersionOne) {
  v1::CreateModelRequest request = ClassifierRequest("iris", {4, 8, 3}, 42);
  request.set_activation(v1::ACTIVATION_TANH);
  request.set_batch_norm_momentum(0.2);
  const v1::ModelInfo info = CreateOrDie(stub(), request);
  EXPECT_EQ(info.name(), "iris");
  EXPECT_THAT(info.layer_sizes(), ElementsAre(4, 8, 3));
  EXPECT_EQ(info.activation(), v1::ACTIVATION_TANH);
  EXPECT_EQ(info.batch_norm_momentum(), 0.2);
  EXPECT_EQ(info.batch_norm_epsilon(), 1e-5);
  EXPECT_EQ(info.seed(), 42u);
  EXPECT_EQ(info.version(), 1);
  // 4*8 weights + 8 gamma + 8 beta, then 8*3 weights + 3 biases.
  EXPECT_EQ(info.parameter_count(), 32 + 16 + 24 + 3);
  EXPECT_EQ(info.training_state(), v1::TRAINING_STATE_UNTRAINED);
  EXPECT_TRUE(MessageDifferencer::Equals(info, ModelOrDie(stub(), "iris")));
}

TEST_F(BnMlpServiceTest, ListModelsIsSortedByName) {
  for (const char* name : {"b", "c", "a"}) {
    CreateOrDie(stub(), ClassifierRequest(name, {2, 2}));
  }
  v1::ListModelsResponse response;
  ASSERT_TRUE(
      stub()
          .ListModels(Context().get(), v1::ListModelsRequest(), &response)
          .ok());
  ASSERT_EQ(response.models_size(), 3);
  EXPECT_EQ(response.models(0).name(), "a");
  EXPECT_EQ(response.models(1).name(), "b");
  EXPECT_EQ(response.models(2).name(), "c");
}

TEST_F(BnMlpServiceTest, TrainStreamsBatchesAndEpochsThenADoneSummary) {
  CreateOrDie(stub(), ClassifierRequest("m", {2, 8, 2}));
  // 64 samples in batches of 16: 4 batches per epoch.
  const TrainResult result =
      RunTrain(stub(), TrainRequestFor("m", TwoBlobs(64, 5), 3, 16));
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  ASSERT_FALSE(result.messages.empty());

  std::vector<int64_t> epoch_versions;
  std::vector<int> mid_epoch_batches(4, 0);
  for (size_t i = 0; i + 1 < result.messages.size(); ++i) {
    const v1::TrainResponse& message = result.messages[i];
    EXPECT_FALSE(message.has_done()) << "only the last message is the summary";
    const v1::TrainProgress& progress = FiguresOf(message);
    EXPECT_EQ(progress.epochs(), 3);
    EXPECT_EQ(progress.batches_per_epoch(), 4);
    if (message.has_epoch_end()) {
      EXPECT_EQ(progress.batch(), 4);
      epoch_versions.push_back(progress.version());
    } else {
      ++mid_epoch_batches[progress.epoch()];
      // Mid-epoch messages carry the version published before the epoch.
      EXPECT_EQ(progress.version(), progress.epoch());
    }
  }
  EXPECT_THAT(epoch_versions, ElementsAre(2, 3, 4));
  for (int epoch = 1; epoch <= 3; ++epoch) {
    EXPECT_GE(mid_epoch_batches[epoch], 1) << "epoch " << epoch;
  }
  // Exactly one epoch end per epoch: the summary is not a fourth.
  EXPECT_EQ(result.Count(v1::TrainResponse::kEpochEnd), 3);
  EXPECT_EQ(result.Count(v1::TrainResponse::kDone), 1);
  ASSERT_TRUE(result.messages.back().has_done());
  const v1::TrainProgress& last = result.messages.back().done();
  EXPECT_EQ(last.version(), 4);
  EXPECT_EQ(last.epoch(), 3);
  EXPECT_GT(last.accuracy(), 0.9);  // the blobs are separable

  const v1::ModelInfo info = ModelOrDie(stub(), "m");
  EXPECT_EQ(info.version(), 4);
  EXPECT_EQ(info.training_state(), v1::TRAINING_STATE_TRAINED);
  EXPECT_EQ(info.last_progress().epoch(), 3);
  EXPECT_EQ(info.last_progress().version(), 4);
  EXPECT_TRUE(info.last_error().empty());
}

TEST_F(BnMlpServiceTest, TrainWithValidationReportsValidationFigures) {
  CreateOrDie(stub(), ClassifierRequest("m", {2, 8, 2}));
  v1::TrainRequest request = TrainRequestFor("m", TwoBlobs(32, 5), 2, 8);
  const ToyData validation = TwoBlobs(10, 9);
  *request.mutable_validation_x() = validation.x;
  request.mutable_validation_labels()->Add(validation.labels.begin(),
                                           validation.labels.end());
  const TrainResult result = RunTrain(stub(), request);
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  const v1::TrainProgress& last = result.LastFigures();
  EXPECT_TRUE(last.has_validation());
  EXPECT_GT(last.validation_loss(), 0);
  EXPECT_GT(last.validation_accuracy(), 0.5);
}

TEST_F(BnMlpServiceTest, PredictReturnsProbabilitiesClassesAndVersion) {
  CreateOrDie(stub(), ClassifierRequest("m", {2, 8, 2}));
  ASSERT_TRUE(RunTrain(stub(), TrainRequestFor("m", TwoBlobs(64, 5), 5, 16))
                  .status.ok());
  v1::PredictRequest request;
  request.set_name("m");
  *request.mutable_x() = MakeTensor({3, 2}, {-2, -2, 2, 2, -1.5, -2.5});
  v1::PredictResponse response;
  const grpc::Status status =
      stub().Predict(Context().get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_THAT(response.outputs().shape(), ElementsAre(3, 2));
  ASSERT_EQ(response.outputs().values_size(), 6);
  for (int row = 0; row < 3; ++row) {
    const float p0 = response.outputs().values(2 * row);
    const float p1 = response.outputs().values(2 * row + 1);
    EXPECT_NEAR(p0 + p1, 1.0f, 1e-5f);
    EXPECT_EQ(response.classes(row), p1 > p0 ? 1 : 0);
  }
  EXPECT_THAT(response.classes(), ElementsAre(0, 1, 0));
  EXPECT_EQ(response.version(), 6);
}

TEST_F(BnMlpServiceTest, PredictOnOneSampleMatchesTheSameSampleInABatch) {
  CreateOrDie(stub(), ClassifierRequest("m", {2, 8, 2}));
  ASSERT_TRUE(RunTrain(stub(), TrainRequestFor("m", TwoBlobs(32, 5), 2, 8))
                  .status.ok());
  v1::PredictRequest single;
  single.set_name("m");
  *single.mutable_x() = MakeTensor({1, 2}, {0.5f, -0.25f});
  v1::PredictRequest batch = single;
  *batch.mutable_x() = MakeTensor({2, 2}, {3, 3, 0.5f, -0.25f});
  v1::PredictResponse one, two;
  ASSERT_TRUE(stub().Predict(Context().get(), single, &one).ok());
  ASSERT_TRUE(stub().Predict(Context().get(), batch, &two).ok());
  // Evaluation mode uses running statistics: no dependence on the batch.
  EXPECT_NEAR(one.outputs().values(0), two.outputs().values(2), 1e-6f);
  EXPECT_NEAR(one.outputs().values(1), two.outputs().values(3), 1e-6f);
}

TEST_F(BnMlpServiceTest, RegressionPredictsValuesWithoutClasses) {
  v1::CreateModelRequest create = ClassifierRequest("reg", {3, 4, 2});
  create.set_task(v1::TASK_REGRESSION);
  CreateOrDie(stub(), create);
  v1::TrainRequest train;
  train.set_name("reg");
  *train.mutable_x() = MakeTensor({4, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2});
  *train.mutable_targets() = MakeTensor({4, 2}, {1, 0, 0, 1, 1, 1, 0, 0});
  train.set_epochs(2);
  train.set_batch_size(2);
  const TrainResult result = RunTrain(stub(), train);
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  EXPECT_EQ(result.LastFigures().accuracy(), 0);

  v1::PredictRequest request;
  request.set_name("reg");
  *request.mutable_x() = MakeTensor({1, 3}, {1, 2, 3});
  v1::PredictResponse response;
  ASSERT_TRUE(stub().Predict(Context().get(), request, &response).ok());
  EXPECT_THAT(response.outputs().shape(), ElementsAre(1, 2));
  EXPECT_EQ(response.classes_size(), 0);
  EXPECT_EQ(response.version(), 3);
}

TEST_F(BnMlpServiceTest, GetParametersReturnsEveryTensorOfTheVersion) {
  v1::CreateModelRequest create = ClassifierRequest("m", {3, 5, 2});
  create.set_normalization(v1::NORMALIZATION_POST_ACTIVATION);
  CreateOrDie(stub(), create);
  const v1::GetParametersResponse params = ParametersOrDie(stub(), "m");
  EXPECT_EQ(params.name(), "m");
  EXPECT_EQ(params.version(), 1);
  EXPECT_THAT(params.layer_sizes(), ElementsAre(3, 5, 2));
  ASSERT_EQ(params.layers_size(), 2);
  EXPECT_THAT(params.layers(0).weight().shape(), ElementsAre(5, 3));
  EXPECT_THAT(params.layers(0).bias().shape(), ElementsAre(5));  // post-act
  EXPECT_THAT(params.layers(0).gamma().values(), ElementsAre(1, 1, 1, 1, 1));
  EXPECT_THAT(params.layers(0).running_mean().values(),
              ElementsAre(0, 0, 0, 0, 0));
  EXPECT_THAT(params.layers(1).weight().shape(), ElementsAre(2, 5));
  EXPECT_EQ(params.layers(1).running_var().values_size(), 0);
}

TEST_F(BnMlpServiceTest, DeleteModelRemovesIt) {
  CreateOrDie(stub(), ClassifierRequest("m", {2, 2}));
  v1::DeleteModelRequest request;
  request.set_name("m");
  v1::DeleteModelResponse response;
  ASSERT_TRUE(stub().DeleteModel(Context().get(), request, &response).ok());
  EXPECT_FALSE(response.cancelled_training());
  v1::GetModelRequest get;
  get.set_name("m");
  v1::ModelInfo info;
  EXPECT_THAT(stub().GetModel(Context().get(), get, &info),
              StatusIs(grpc::StatusCode::NOT_FOUND, "'m' not found"));
  EXPECT_THAT(stub().DeleteModel(Context().get(), request, &response),
              StatusIs(grpc::StatusCode::NOT_FOUND, "'m' not found"));
}

TEST_F(BnMlpServiceTest, SecondTrainOnTheSameModelIsFailedPrecondition) {
  CreateOrDie(stub(), ClassifierRequest("m", {2, 8, 2}));
  BackgroundTrain first(stub(), EndlessTrain("m"));
  ASSERT_TRUE(first.WaitForEpochEnds(1));
  const TrainResult second =
      RunTrain(stub(), TrainRequestFor("m", TwoBlobs(8, 2), 1, 4));
  EXPECT_THAT(second.status, StatusIs(grpc::StatusCode::FAILED_PRECONDITION,
                                      "'m' is already training"));
  EXPECT_THAT(second.status.error_message(), HasSubstr("started by ipv"));
  EXPECT_TRUE(second.messages.empty());
  // Another model trains meanwhile.
  CreateOrDie(stub(), ClassifierRequest("other", {2, 4, 2}));
  EXPECT_TRUE(RunTrain(stub(), TrainRequestFor("other", TwoBlobs(8, 2), 1, 4))
                  .status.ok());
}

TEST_F(BnMlpServiceTest, CancellingTheCallKeepsTheLastPublishedVersion) {
  CreateOrDie(stub(), ClassifierRequest("m", {2, 8, 2}));
  BackgroundTrain train(stub(), EndlessTrain("m"));
  ASSERT_TRUE(train.WaitForEpochEnds(2));
  train.Cancel();
  EXPECT_EQ(train.Join().error_code(), grpc::StatusCode::CANCELLED);

  const v1::ModelInfo info = WaitUntilNotTraining("m");
  EXPECT_EQ(info.training_state(), v1::TRAINING_STATE_CANCELLED);
  EXPECT_THAT(info.last_error(), HasSubstr("cancelled by the client"));
  EXPECT_GE(info.version(), 3);  // at least the two epochs seen
  const v1::GetParametersResponse params = ParametersOrDie(stub(), "m");
  EXPECT_EQ(params.version(), info.version());
  // The model still serves, at that version.
  v1::PredictRequest request;
  request.set_name("m");
  *request.mutable_x() = MakeTensor({1, 2}, {1, 1});
  v1::PredictResponse response;
  ASSERT_TRUE(stub().Predict(Context().get(), request, &response).ok());
  EXPECT_EQ(response.version(), info.version());
  // And it can be trained again.
  EXPECT_TRUE(
      RunTrain(stub(), TrainRequestFor("m", TwoBlobs(8, 2), 1, 4)).status.ok());
  EXPECT_EQ(ModelOrDie(stub(), "m").version(), info.version() + 1);
}

TEST_F(BnMlpServiceTest, PredictDuringTrainAnswersFromPublishedVersions) {
  CreateOrDie(stub(), ClassifierRequest("m", {2, 8, 2}));
  BackgroundTrain train(stub(), EndlessTrain("m"));
  ASSERT_TRUE(train.WaitForEpochEnds(1));
  v1::PredictRequest request;
  request.set_name("m");
  *request.mutable_x() = MakeTensor({2, 2}, {-2, -2, 2, 2});
  int64_t previous_version = 0;
  for (int i = 0; i < 20; ++i) {
    v1::PredictResponse response;
    const grpc::Status status =
        stub().Predict(Context().get(), request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_GE(response.version(), 2);
    EXPECT_GE(response.version(), previous_version);  // never goes back
    previous_version = response.version();
    for (int row = 0; row < 2; ++row) {
      EXPECT_NEAR(response.outputs().values(2 * row) +
                      response.outputs().values(2 * row + 1),
                  1.0f, 1e-5f);
    }
  }
  // Predict did not wait for the (100,000-epoch) training to end.
  EXPECT_EQ(ModelOrDie(stub(), "m").training_state(),
            v1::TRAINING_STATE_TRAINING);
  train.Cancel();
}

TEST_F(BnMlpServiceTest, DeleteDuringTrainCancelsTheTraining) {
  CreateOrDie(stub(), ClassifierRequest("m", {2, 8, 2}));
  BackgroundTrain train(stub(), EndlessTrain("m"));
  ASSERT_TRUE(train.WaitForEpochEnds(1));
  v1::DeleteModelRequest request;
  request.set_name("m");
  v1::DeleteModelResponse response;
  ASSERT_TRUE(stub().DeleteModel(Context().get(), request, &response).ok());
  EXPECT_TRUE(response.cancelled_training());
  EXPECT_THAT(train.Join(),
              StatusIs(grpc::StatusCode::CANCELLED, "'m' was deleted"));
  v1::GetModelRequest get;
  get.set_name("m");
  v1::ModelInfo info;
  EXPECT_EQ(stub().GetModel(Context().get(), get, &info).error_code(),
            grpc::StatusCode::NOT_FOUND);
  // The name can be reused at once, for a fresh model.
  EXPECT_EQ(CreateOrDie(stub(), ClassifierRequest("m", {2, 2})).version(), 1);
}

TEST_F(BnMlpServiceTest, ShutdownCancelsRunningTrainingAndReturns) {
  CreateOrDie(stub(), ClassifierRequest("m", {2, 8, 2}));
  BackgroundTrain train(stub(), EndlessTrain("m"));
  ASSERT_TRUE(train.WaitForEpochEnds(1));
  server_->server().Shutdown(absl::Seconds(30));
  const grpc::Status status = train.Join();
  // The client always learns why: the server is going away, and which
  // version the model keeps (never the transport's "Cancelling all calls").
  EXPECT_THAT(status, StatusIs(grpc::StatusCode::UNAVAILABLE,
                               "the server is shutting down"));
  EXPECT_THAT(status.error_message(), HasSubstr("the model keeps version"));
  const std::vector<v1::TrainResponse> messages = train.messages();
  ASSERT_FALSE(messages.empty());
  EXPECT_FALSE(messages.back().has_done());
}

}  // namespace
}  // namespace bnmlp::testing
