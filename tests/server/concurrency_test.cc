// Many clients at once on several models: Predict, Train, Delete, List and
// Create interleave freely. Every call gets one of the statuses its race
// allows, the server never crashes, and (under TSan, where CI runs the
// `concurrency` label) no data race is reported.
#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server/server_test_util.h"

namespace bnmlp::testing {
namespace {

using ::testing::AnyOf;
using ::testing::Eq;

constexpr int kModels = 3;
constexpr int kRoundsPerThread = 12;

std::string ModelName(int i) { return "model" + std::to_string(i % kModels); }

class ConcurrencyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<InProcessServer>> server =
        InProcessServer::Start();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    for (int i = 0; i < kModels; ++i) {
      CreateOrDie(server_->stub(), ClassifierRequest(ModelName(i), {2, 8, 2}));
    }
  }

  // Each client thread has its own stub on the shared channel, as separate
  // client programs would.
  std::unique_ptr<v1::BnMlpService::Stub> NewStub() {
    return v1::BnMlpService::NewStub(server_->channel());
  }

  std::unique_ptr<InProcessServer> server_;
  std::atomic<int> predictions_{0};
  std::atomic<int> trainings_{0};
};

TEST_F(ConcurrencyTest, MixedClientsOnSeveralModels) {
  const ToyData data = TwoBlobs(16, 8);
  std::vector<std::thread> clients;
  for (int t = 0; t < 3; ++t) {  // predictors
    clients.emplace_back([&, t] {
      auto stub = NewStub();
      for (int round = 0; round < kRoundsPerThread * 4; ++round) {
        v1::PredictRequest request;
        request.set_name(ModelName(t + round));
        *request.mutable_x() = MakeTensor({2, 2}, {-2, -2, 2, 2});
        v1::PredictResponse response;
        const grpc::Status status =
            stub->Predict(Context().get(), request, &response);
        // A model may be deleted (and re-created) by another client.
        EXPECT_THAT(status.error_code(), AnyOf(Eq(grpc::StatusCode::OK),
                                               Eq(grpc::StatusCode::NOT_FOUND)))
            << status.error_message();
        if (status.ok()) {
          EXPECT_EQ(response.outputs().values_size(), 4);
          EXPECT_GE(response.version(), 1);
          ++predictions_;
        }
      }
    });
  }
  for (int t = 0; t < 2; ++t) {  // trainers
    clients.emplace_back([&, t] {
      auto stub = NewStub();
      for (int round = 0; round < kRoundsPerThread; ++round) {
        const TrainResult result =
            RunTrain(*stub, TrainRequestFor(ModelName(t + round), data, 2, 8));
        // Another trainer may hold the model, or a deleter may remove it
        // before or during the run.
        EXPECT_THAT(result.status.error_code(),
                    AnyOf(Eq(grpc::StatusCode::OK),
                          Eq(grpc::StatusCode::FAILED_PRECONDITION),
                          Eq(grpc::StatusCode::NOT_FOUND),
                          Eq(grpc::StatusCode::CANCELLED)))
            << result.status.error_message();
        if (result.status.ok()) {
          ASSERT_FALSE(result.messages.empty());
          EXPECT_TRUE(result.messages.back().has_done());
          ++trainings_;
        }
      }
    });
  }
  clients.emplace_back([&] {  // deleter and re-creator
    auto stub = NewStub();
    for (int round = 0; round < kRoundsPerThread; ++round) {
      v1::DeleteModelRequest request;
      request.set_name(ModelName(round));
      v1::DeleteModelResponse response;
      const grpc::Status deleted =
          stub->DeleteModel(Context().get(), request, &response);
      EXPECT_THAT(deleted.error_code(), AnyOf(Eq(grpc::StatusCode::OK),
                                              Eq(grpc::StatusCode::NOT_FOUND)));
      v1::ModelInfo info;
      const grpc::Status created = stub->CreateModel(
          Context().get(), ClassifierRequest(ModelName(round), {2, 8, 2}),
          &info);
      EXPECT_THAT(created.error_code(),
                  AnyOf(Eq(grpc::StatusCode::OK),
                        Eq(grpc::StatusCode::ALREADY_EXISTS)));
    }
  });
  clients.emplace_back([&] {  // lister
    auto stub = NewStub();
    for (int round = 0; round < kRoundsPerThread * 2; ++round) {
      v1::ListModelsResponse response;
      ASSERT_TRUE(
          stub->ListModels(Context().get(), v1::ListModelsRequest(), &response)
              .ok());
      EXPECT_LE(response.models_size(), kModels);
      std::set<std::string> names;
      for (const v1::ModelInfo& info : response.models()) {
        EXPECT_TRUE(names.insert(info.name()).second) << "duplicate";
        EXPECT_GE(info.version(), 1);
      }
    }
  });
  for (std::thread& client : clients) client.join();

  EXPECT_GT(predictions_.load(), 0);
  EXPECT_GT(trainings_.load(), 0);
  // Afterwards every model is whole: listed, idle, and serving.
  v1::ListModelsResponse response;
  ASSERT_TRUE(
      server_->stub()
          .ListModels(Context().get(), v1::ListModelsRequest(), &response)
          .ok());
  EXPECT_EQ(response.models_size(), kModels);
  for (const v1::ModelInfo& info : response.models()) {
    EXPECT_NE(info.training_state(), v1::TRAINING_STATE_TRAINING)
        << info.name();
    v1::PredictRequest request;
    request.set_name(info.name());
    *request.mutable_x() = MakeTensor({1, 2}, {0, 0});
    v1::PredictResponse prediction;
    EXPECT_TRUE(
        server_->stub().Predict(Context().get(), request, &prediction).ok());
  }
}

// Batches big enough to share the compute slots (server/compute_slots.h):
// concurrent callers take turns, and every one gets the full answer.
TEST_F(ConcurrencyTest, LargePredictsTakeTurnsAndAllSucceed) {
  constexpr int kFeatures = 64;
  constexpr int kBatch = 64;  // 64 x ~19k parameters: over the pool threshold
  CreateOrDie(server_->stub(), ClassifierRequest("wide", {kFeatures, 256, 10}));
  std::vector<float> x(kFeatures * kBatch);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 7) - 3;
  v1::PredictRequest request;
  request.set_name("wide");
  *request.mutable_x() = MakeTensor({kBatch, kFeatures}, x);
  v1::PredictResponse expected;
  ASSERT_TRUE(
      server_->stub().Predict(Context().get(), request, &expected).ok());

  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&] {
      auto stub = NewStub();
      for (int round = 0; round < 8; ++round) {
        v1::PredictResponse response;
        const grpc::Status status =
            stub->Predict(Context().get(), request, &response);
        ASSERT_TRUE(status.ok()) << status.error_message();
        ASSERT_EQ(response.outputs().values_size(),
                  expected.outputs().values_size());
        for (int i = 0; i < response.outputs().values_size(); ++i) {
          EXPECT_NEAR(response.outputs().values(i),
                      expected.outputs().values(i), 1e-5);
        }
        ++predictions_;
      }
    });
  }
  for (std::thread& client : clients) client.join();
  EXPECT_EQ(predictions_.load(), 4 * 8);
}

// Predicts hold no thread while they wait (callback API), so the server
// bounds how many are in progress; past that, RESOURCE_EXHAUSTED at once.
TEST(PredictCallLimitTest, PredictsBeyondTheLimitAreRefusedAtOnce) {
  ServerOptions options = TestServerOptions();
  options.max_predict_calls = 0;
  absl::StatusOr<std::unique_ptr<InProcessServer>> server =
      InProcessServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  CreateOrDie((*server)->stub(), ClassifierRequest("clf", {2, 8, 2}));
  v1::PredictRequest request;
  request.set_name("clf");
  *request.mutable_x() = MakeTensor({1, 2}, {0.5f, -0.5f});
  v1::PredictResponse response;
  const grpc::Status status =
      (*server)->stub().Predict(Context().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status.error_message(),
              ::testing::HasSubstr("the most this server serves at once is 0"));
  // Other calls are unaffected.
  v1::GetModelRequest get;
  get.set_name("clf");
  v1::ModelInfo info;
  EXPECT_TRUE((*server)->stub().GetModel(Context().get(), get, &info).ok());
}

}  // namespace
}  // namespace bnmlp::testing
