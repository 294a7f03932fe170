// Every kind of bad request gets a clear error with the right code, and
// leaves the server up and every other model intact: each test runs beside
// a trained sentinel model that TearDown checks bit for bit.
#include <cmath>
#include <limits>
#include <memory>
#include <string>

#include "common/api_defaults.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tests/server/server_test_util.h"

namespace bnmlp::testing {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using ::testing::HasSubstr;

class BadInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options = TestServerOptions();
    options.limits.max_models = 4;
    options.limits.max_parameters = 100000;
    options.max_message_bytes = 1 << 20;
    absl::StatusOr<std::unique_ptr<InProcessServer>> server =
        InProcessServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    CreateOrDie(stub(), ClassifierRequest("sentinel", {2, 6, 2}));
    ASSERT_TRUE(
        RunTrain(stub(), TrainRequestFor("sentinel", TwoBlobs(16, 4), 2, 8))
            .status.ok());
    sentinel_ = ParametersOrDie(stub(), "sentinel");
    CreateOrDie(stub(), ClassifierRequest("clf", {2, 4, 3}));
    v1::CreateModelRequest regression = ClassifierRequest("reg", {2, 4, 2});
    regression.set_task(v1::TASK_REGRESSION);
    CreateOrDie(stub(), regression);
  }

  void TearDown() override {
    // The server still answers, and the sentinel is exactly as it was.
    ASSERT_NE(server_, nullptr);
    EXPECT_TRUE(MessageDifferencer::Equals(ParametersOrDie(stub(), "sentinel"),
                                           sentinel_));
    EXPECT_EQ(ModelOrDie(stub(), "sentinel").training_state(),
              v1::TRAINING_STATE_TRAINED);
  }

  v1::BnMlpService::Stub& stub() { return server_->stub(); }

  grpc::Status Create(const v1::CreateModelRequest& request) {
    v1::ModelInfo info;
    return stub().CreateModel(Context().get(), request, &info);
  }

  // A valid 4-sample request for the 3-class "clf" model, to break.
  v1::TrainRequest GoodTrain() {
    v1::TrainRequest request;
    request.set_name("clf");
    *request.mutable_x() = MakeTensor({4, 2}, {0, 1, 1, 0, 2, 2, 3, 1});
    for (int label : {0, 1, 2, 1}) request.add_labels(label);
    request.set_epochs(1);
    request.set_batch_size(2);
    return request;
  }

  grpc::Status Train(const v1::TrainRequest& request) {
    const TrainResult result = RunTrain(stub(), request);
    if (!result.status.ok()) {
      EXPECT_TRUE(result.messages.empty()) << "progress before an error";
      // Rejected up front: the target model's state is untouched.
      v1::GetModelRequest get;
      get.set_name(request.name());
      v1::ModelInfo info;
      if (stub().GetModel(Context().get(), get, &info).ok()) {
        EXPECT_EQ(info.training_state(), v1::TRAINING_STATE_UNTRAINED)
            << request.name();
        EXPECT_EQ(info.version(), 1);
      }
    }
    return result.status;
  }

  grpc::Status Predict(const std::string& name, const v1::Tensor& x) {
    v1::PredictRequest request;
    request.set_name(name);
    *request.mutable_x() = x;
    v1::PredictResponse response;
    return stub().Predict(Context().get(), request, &response);
  }

  std::unique_ptr<InProcessServer> server_;
  v1::GetParametersResponse sentinel_;
};

constexpr grpc::StatusCode kInvalid = grpc::StatusCode::INVALID_ARGUMENT;

TEST_F(BadInputTest, ValuesCountNotMatchingShape) {
  v1::TrainRequest request = GoodTrain();
  request.mutable_x()->mutable_values()->RemoveLast();
  EXPECT_THAT(Train(request), StatusIs(kInvalid, "x: shape [4, 2] needs"));
  EXPECT_THAT(Predict("clf", MakeTensor({2, 2}, {1, 2, 3})),
              StatusIs(kInvalid, "x: shape [2, 2] needs"));
}

TEST_F(BadInputTest, RankNotTwo) {
  v1::TrainRequest request = GoodTrain();
  *request.mutable_x() = MakeTensor({8}, {0, 1, 1, 0, 2, 2, 3, 1});
  EXPECT_THAT(Train(request), StatusIs(kInvalid, "x: expected shape [N, "));
  EXPECT_THAT(Predict("clf", MakeTensor({1, 1, 2}, {1, 2})),
              StatusIs(kInvalid, "got rank 3"));
}

TEST_F(BadInputTest, FeatureCountNotMatchingTheModel) {
  v1::TrainRequest request = GoodTrain();
  *request.mutable_x() = MakeTensor({2, 4}, {0, 1, 1, 0, 2, 2, 3, 1});
  request.mutable_labels()->Truncate(2);
  EXPECT_THAT(Train(request), StatusIs(kInvalid, "x has 4 features"));
  EXPECT_THAT(Predict("clf", MakeTensor({1, 3}, {1, 2, 3})),
              StatusIs(kInvalid, "the model has 2 inputs"));
}

TEST_F(BadInputTest, NanOrInfInX) {
  v1::TrainRequest request = GoodTrain();
  request.mutable_x()->set_values(5, std::nanf(""));
  EXPECT_THAT(Train(request), StatusIs(kInvalid, "x[2][1] is nan"));
  request = GoodTrain();
  request.mutable_x()->set_values(0, -INFINITY);
  EXPECT_THAT(Train(request), StatusIs(kInvalid, "x[0][0] is -inf"));
  EXPECT_THAT(Predict("clf", MakeTensor({1, 2}, {INFINITY, 0})),
              StatusIs(kInvalid, "x: expected finite values, got inf"));
}

TEST_F(BadInputTest, NanInTargetsOrValidationX) {
  v1::TrainRequest request;
  request.set_name("reg");
  *request.mutable_x() = MakeTensor({2, 2}, {0, 1, 1, 0});
  *request.mutable_targets() = MakeTensor({2, 2}, {0, 1, NAN, 0});
  request.set_epochs(1);
  request.set_batch_size(2);
  EXPECT_THAT(Train(request), StatusIs(kInvalid, "targets[1][0] is nan"));

  v1::TrainRequest with_validation = GoodTrain();
  *with_validation.mutable_validation_x() = MakeTensor({1, 2}, {NAN, 0});
  with_validation.add_validation_labels(0);
  EXPECT_THAT(Train(with_validation),
              StatusIs(kInvalid, "validation_x[0][0] is nan"));
}

TEST_F(BadInputTest, LabelOutOfRangeOrNegative) {
  v1::TrainRequest request = GoodTrain();
  request.set_labels(2, 3);
  EXPECT_THAT(
      Train(request),
      StatusIs(kInvalid, "labels[2] = 3 is not a class index in [0, 3)"));
  request.set_labels(2, -1);
  EXPECT_THAT(Train(request), StatusIs(kInvalid, "labels[2] = -1"));
}

TEST_F(BadInputTest, LabelsAndTargetsBothOrNeitherOrWrongForTheTask) {
  v1::TrainRequest both = GoodTrain();
  *both.mutable_targets() = MakeTensor({4, 3}, std::vector<float>(12, 0));
  EXPECT_THAT(Train(both), StatusIs(kInvalid,
                                    "targets is set, but this is a "
                                    "classification model"));
  v1::TrainRequest neither = GoodTrain();
  neither.clear_labels();
  EXPECT_THAT(Train(neither), StatusIs(kInvalid, "labels has 0 entries"));

  v1::TrainRequest labels_for_regression = GoodTrain();
  labels_for_regression.set_name("reg");
  EXPECT_THAT(Train(labels_for_regression),
              StatusIs(kInvalid, "labels is set, but this is a regression"));
  v1::TrainRequest no_targets = labels_for_regression;
  no_targets.clear_labels();
  EXPECT_THAT(Train(no_targets), StatusIs(kInvalid, "targets must have shape"));
}

TEST_F(BadInputTest, SampleCountMismatchBetweenXAndLabels) {
  v1::TrainRequest request = GoodTrain();
  request.add_labels(0);
  EXPECT_THAT(Train(request),
              StatusIs(kInvalid, "labels has 5 entries; x has 4 samples"));
}

TEST_F(BadInputTest, EmptyBatch) {
  v1::TrainRequest request = GoodTrain();
  *request.mutable_x() = MakeTensor({0, 2}, {});
  request.clear_labels();
  EXPECT_THAT(Train(request), StatusIs(kInvalid, "x is empty"));
  request.clear_x();
  EXPECT_THAT(Train(request), StatusIs(kInvalid, "x is empty"));
  EXPECT_THAT(Predict("clf", MakeTensor({0, 2}, {})),
              StatusIs(kInvalid, "with N >= 1"));
  EXPECT_THAT(Predict("clf", v1::Tensor()),
              StatusIs(kInvalid, "got an empty tensor"));
}

TEST_F(BadInputTest, TrainingOnOneSample) {
  v1::TrainRequest request = GoodTrain();
  *request.mutable_x() = MakeTensor({1, 2}, {0, 1});
  request.mutable_labels()->Truncate(1);
  EXPECT_THAT(Train(request), StatusIs(kInvalid, "x has 1 sample"));
}

TEST_F(BadInputTest, ValidationLabelsOrTargetsWithoutValidationX) {
  v1::TrainRequest request = GoodTrain();
  request.add_validation_labels(0);
  EXPECT_THAT(Train(request),
              StatusIs(kInvalid,
                       "validation_labels: 1 labels given without "
                       "validation_x"));
  request = GoodTrain();
  *request.mutable_validation_targets() = MakeTensor({1, 3}, {0, 0, 1});
  EXPECT_THAT(Train(request), StatusIs(kInvalid,
                                       "validation_targets: given without "
                                       "validation_x"));
}

TEST_F(BadInputTest, BatchSizeOneOrNegative) {
  for (int batch_size : {1, -5}) {
    v1::TrainRequest request = GoodTrain();
    request.set_batch_size(batch_size);
    EXPECT_THAT(Train(request),
                StatusIs(kInvalid, "batch_size must be at least 2"));
  }
}

TEST_F(BadInputTest, BatchSizeLargerThanTheSetTrainsOneWholeBatch) {
  v1::TrainRequest request = GoodTrain();
  request.set_batch_size(1000);
  request.set_epochs(2);
  const TrainResult result = RunTrain(stub(), request);
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  EXPECT_EQ(result.LastFigures().batches_per_epoch(), 1);
  EXPECT_EQ(ModelOrDie(stub(), "clf").version(), 3);
}

TEST_F(BadInputTest, UnsetEpochsAndBatchSizeTakeTheDefaults) {
  v1::TrainRequest request = GoodTrain();
  request.clear_epochs();
  request.clear_batch_size();
  const TrainResult result = RunTrain(stub(), request);
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  EXPECT_EQ(result.LastFigures().epochs(), api_defaults::kEpochs);
  const int64_t samples = request.x().shape(0);
  EXPECT_EQ(
      result.LastFigures().batches_per_epoch(),
      (samples + api_defaults::kBatchSize - 1) / api_defaults::kBatchSize);
}

TEST_F(BadInputTest, EpochsNegativeOrAbsurd) {
  for (int epochs : {-1, 100001, std::numeric_limits<int>::max()}) {
    v1::TrainRequest request = GoodTrain();
    request.set_epochs(epochs);
    EXPECT_THAT(Train(request), StatusIs(kInvalid, "epochs must be in [1, "));
  }
}

TEST_F(BadInputTest, LearningRateNotPositiveOrNan) {
  for (float rate : {-0.1f, std::nanf(""), INFINITY}) {
    v1::TrainRequest request = GoodTrain();
    request.set_learning_rate(rate);
    EXPECT_THAT(Train(request), StatusIs(kInvalid, "learning_rate must be in"));
  }
}

TEST_F(BadInputTest, MomentumOutsideZeroToOne) {
  for (float momentum : {1.0f, -0.1f, 7.0f, std::nanf("")}) {
    v1::TrainRequest request = GoodTrain();
    request.set_momentum(momentum);
    EXPECT_THAT(Train(request),
                StatusIs(kInvalid, "momentum must be in [0, 1)"));
  }
}

TEST_F(BadInputTest, UnknownOptimizerOrScheduleEnum) {
  v1::TrainRequest request = GoodTrain();
  request.set_optimizer(static_cast<v1::Optimizer>(5));
  EXPECT_THAT(Train(request), StatusIs(kInvalid, "optimizer: expected one of"));
  request = GoodTrain();
  request.set_learning_rate_schedule(static_cast<v1::LearningRateSchedule>(7));
  EXPECT_THAT(Train(request),
              StatusIs(kInvalid, "learning_rate_schedule: expected one of"));
}

TEST_F(BadInputTest, LayerSizesTooFewOrZero) {
  EXPECT_THAT(Create(ClassifierRequest("new", {5})),
              StatusIs(kInvalid, "layer_sizes must list at least 2"));
  EXPECT_THAT(Create(ClassifierRequest("new", {})),
              StatusIs(kInvalid, "layer_sizes must list at least 2"));
  EXPECT_THAT(Create(ClassifierRequest("new", {3, 0, 2})),
              StatusIs(kInvalid, "layer_sizes[1] must be at least 1"));
  EXPECT_THAT(Create(ClassifierRequest("new", {3, -4, 2})),
              StatusIs(kInvalid, "layer_sizes[1]"));
}

TEST_F(BadInputTest, ParameterCountOverTheLimitIsResourceExhausted) {
  EXPECT_THAT(
      Create(ClassifierRequest("new", {1000, 1000, 2})),
      StatusIs(grpc::StatusCode::RESOURCE_EXHAUSTED, "the limit is 100000"));
  // 2^62-wide layers: no overflow, no allocation, just the error.
  EXPECT_THAT(
      Create(ClassifierRequest("new", {int64_t{1} << 62, int64_t{1} << 62, 2})),
      StatusIs(grpc::StatusCode::RESOURCE_EXHAUSTED, "layer_sizes"));
  EXPECT_THAT(Create(ClassifierRequest(
                  "new", {std::numeric_limits<int64_t>::max(), 2})),
              StatusIs(grpc::StatusCode::RESOURCE_EXHAUSTED, "layer_sizes"));
}

TEST_F(BadInputTest, BadBatchNormOptionsOrEnums) {
  v1::CreateModelRequest request = ClassifierRequest("new", {2, 3, 2});
  request.set_batch_norm_momentum(1.5);
  EXPECT_THAT(Create(request), StatusIs(kInvalid, "batch_norm_momentum"));
  request = ClassifierRequest("new", {2, 3, 2});
  request.set_batch_norm_epsilon(0);
  EXPECT_THAT(Create(request), StatusIs(kInvalid, "batch_norm_epsilon"));
  request = ClassifierRequest("new", {2, 3, 2});
  request.set_task(static_cast<v1::Task>(3));
  EXPECT_THAT(Create(request), StatusIs(kInvalid, "task: expected one of"));
}

TEST_F(BadInputTest, TooManyModelsIsResourceExhausted) {
  CreateOrDie(stub(), ClassifierRequest("fourth", {2, 2}));
  EXPECT_THAT(Create(ClassifierRequest("fifth", {2, 2})),
              StatusIs(grpc::StatusCode::RESOURCE_EXHAUSTED, "--max_models"));
}

TEST_F(BadInputTest, InvalidOrEmptyModelName) {
  for (const std::string& name :
       {std::string(), std::string("white space"), std::string(65, 'a'),
        std::string("../etc"), std::string("_leading")}) {
    EXPECT_THAT(Create(ClassifierRequest(name, {2, 2})),
                StatusIs(kInvalid, "name: expected 1-64 characters"))
        << name;
    EXPECT_THAT(Predict(name, MakeTensor({1, 2}, {1, 2})),
                StatusIs(kInvalid, "name:"));
  }
}

TEST_F(BadInputTest, UnknownModelIsNotFoundOnEveryRpc) {
  const grpc::StatusCode kNotFound = grpc::StatusCode::NOT_FOUND;
  EXPECT_THAT(Predict("ghost", MakeTensor({1, 2}, {1, 2})),
              StatusIs(kNotFound, "model 'ghost' not found"));
  v1::TrainRequest train = GoodTrain();
  train.set_name("ghost");
  EXPECT_THAT(Train(train), StatusIs(kNotFound, "'ghost'"));
  v1::GetParametersRequest params;
  params.set_name("ghost");
  v1::GetParametersResponse params_response;
  EXPECT_THAT(stub().GetParameters(Context().get(), params, &params_response),
              StatusIs(kNotFound, "'ghost'"));
  v1::GetModelRequest get;
  get.set_name("ghost");
  v1::ModelInfo info;
  EXPECT_THAT(stub().GetModel(Context().get(), get, &info),
              StatusIs(kNotFound, "'ghost'"));
  v1::DeleteModelRequest del;
  del.set_name("ghost");
  v1::DeleteModelResponse del_response;
  EXPECT_THAT(stub().DeleteModel(Context().get(), del, &del_response),
              StatusIs(kNotFound, "'ghost'"));
}

TEST_F(BadInputTest, DuplicateNameIsAlreadyExists) {
  EXPECT_THAT(Create(ClassifierRequest("sentinel", {2, 2})),
              StatusIs(grpc::StatusCode::ALREADY_EXISTS,
                       "model 'sentinel' already exists"));
}

TEST_F(BadInputTest, MessageOverTheSizeLimitIsResourceExhausted) {
  // 1 MiB limit: 300,000 floats are 1.2 MB on the wire.
  v1::TrainRequest request = GoodTrain();
  *request.mutable_x() =
      MakeTensor({150000, 2}, std::vector<float>(300000, 0.5f));
  EXPECT_EQ(Train(request).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(
      Predict("clf", MakeTensor({150000, 2}, std::vector<float>(300000, 0.5f)))
          .error_code(),
      grpc::StatusCode::RESOURCE_EXHAUSTED);
}

TEST_F(BadInputTest, PredictionTooLargeToSendIsResourceExhausted) {
  // 1 MiB responses hold 262,144 floats; 100,000 samples x 3 classes do not
  // fit, although the request (100,000 x 1 inputs) does.
  CreateOrDie(stub(), ClassifierRequest("wide", {1, 3}));
  EXPECT_THAT(
      Predict("wide",
              MakeTensor({100000, 1}, std::vector<float>(100000, 1.0f))),
      StatusIs(grpc::StatusCode::RESOURCE_EXHAUSTED, "--max_message_bytes"));
}

}  // namespace
}  // namespace bnmlp::testing
