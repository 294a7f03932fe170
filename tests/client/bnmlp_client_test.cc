// BnmlpClient against an in-process fake BnMlpService: conversions,
// streaming, cancellation, chunking and error messages, without the real
// server.
#include "client/bnmlp_client.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/annotated_mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bnmlp::client {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Answers like the real service in shape, with canned values, and records
// what it received.
class FakeService final : public v1::BnMlpService::Service {
 public:
  grpc::Status CreateModel(grpc::ServerContext*,
                           const v1::CreateModelRequest* request,
                           v1::ModelInfo* info) override {
    WriterLock lock(&mu_);
    last_create_ = *request;
    if (request->name() == "taken") {
      return grpc::Status(grpc::StatusCode::ALREADY_EXISTS,
                          "name: model 'taken' already exists");
    }
    info->set_name(request->name());
    *info->mutable_layer_sizes() = request->layer_sizes();
    info->set_version(1);
    return grpc::Status::OK;
  }

  // "forever" streams progress until cancelled; "shutdown" sends one
  // progress event and ends as the server does when it shuts down;
  // "no-summary" ends without its `done` event; any other name gets one
  // progress event, one epoch end and the final summary.
  grpc::Status Train(grpc::ServerContext* context,
                     const v1::TrainRequest* request,
                     grpc::ServerWriter<v1::TrainResponse>* writer) override {
    {
      WriterLock lock(&mu_);
      last_train_ = *request;
      ++train_calls_;
    }
    v1::TrainProgress progress;
    progress.set_epochs(1);
    progress.set_batches_per_epoch(2);
    progress.set_epoch(1);
    progress.set_version(1);
    v1::TrainResponse event;
    if (request->name() == "forever") {
      for (int batch = 1; !context->IsCancelled(); ++batch) {
        progress.set_batch(batch);
        *event.mutable_progress() = progress;
        writer->Write(event);
        absl::SleepFor(absl::Milliseconds(5));
      }
      WriterLock lock(&mu_);
      saw_cancellation_ = true;
      return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
    }
    progress.set_batch(1);
    *event.mutable_progress() = progress;
    writer->Write(event);
    if (request->name() == "shutdown") {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, kShutdownMessage);
    }
    progress.set_batch(2);
    progress.set_version(2);
    *event.mutable_epoch_end() = progress;
    writer->Write(event);
    if (request->name() == "no-summary") return grpc::Status::OK;
    progress.set_elapsed_seconds(1.5);
    *event.mutable_done() = progress;
    writer->Write(event);
    return grpc::Status::OK;
  }

  static constexpr char kShutdownMessage[] =
      "the server is shutting down: training cancelled in epoch 1 at batch 1 "
      "of 2; the model keeps version 1";

  grpc::Status Predict(grpc::ServerContext*, const v1::PredictRequest* request,
                       v1::PredictResponse* response) override {
    const int64_t rows = request->x().shape(0);
    {
      WriterLock lock(&mu_);
      predict_chunk_rows_.push_back(rows);
    }
    response->mutable_outputs()->add_shape(rows);
    response->mutable_outputs()->add_shape(2);
    for (int64_t r = 0; r < rows; ++r) {
      // Class 1 when the row's first feature is positive.
      const bool positive = request->x().values(r * request->x().shape(1)) > 0;
      response->mutable_outputs()->add_values(positive ? 0.25f : 0.75f);
      response->mutable_outputs()->add_values(positive ? 0.75f : 0.25f);
      response->add_classes(positive ? 1 : 0);
    }
    response->set_version(7);
    return grpc::Status::OK;
  }

  grpc::Status GetParameters(grpc::ServerContext*,
                             const v1::GetParametersRequest* request,
                             v1::GetParametersResponse* response) override {
    response->set_name(request->name());
    response->set_version(3);
    response->add_layer_sizes(3);
    response->add_layer_sizes(2);
    v1::Tensor* weight = response->add_layers()->mutable_weight();
    weight->add_shape(2);
    weight->add_shape(3);
    for (int i = 0; i < (request->name() == "malformed" ? 5 : 6); ++i) {
      weight->add_values(static_cast<float>(i));
    }
    return grpc::Status::OK;
  }

  v1::CreateModelRequest last_create() {
    WriterLock lock(&mu_);
    return last_create_;
  }
  v1::TrainRequest last_train() {
    WriterLock lock(&mu_);
    return last_train_;
  }
  int train_calls() {
    WriterLock lock(&mu_);
    return train_calls_;
  }
  std::vector<int64_t> predict_chunk_rows() {
    WriterLock lock(&mu_);
    return predict_chunk_rows_;
  }
  // Waits up to 10 s for a Train handler to see its call cancelled.
  bool WaitForCancellation() {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (absl::Now() < deadline) {
      {
        WriterLock lock(&mu_);
        if (saw_cancellation_) return true;
      }
      absl::SleepFor(absl::Milliseconds(5));
    }
    return false;
  }

 private:
  AnnotatedMutex mu_;  // Held only to copy the recorded requests in or out.
  v1::CreateModelRequest last_create_ ABSL_GUARDED_BY(mu_);
  v1::TrainRequest last_train_ ABSL_GUARDED_BY(mu_);
  int train_calls_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<int64_t> predict_chunk_rows_ ABSL_GUARDED_BY(mu_);
  bool saw_cancellation_ ABSL_GUARDED_BY(mu_) = false;
};

class BnmlpClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::EnableDefaultHealthCheckService(true);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    address_ = "127.0.0.1:" + std::to_string(port);
  }
  void TearDown() override { server_->Shutdown(); }

  BnmlpClient MakeClient(ClientOptions options = {}) {
    return BnmlpClient(address_, options);
  }

  FakeService service_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
};

// Four samples of three features, two classes.
struct SmallSet {
  std::vector<float> features = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  std::vector<int32_t> labels = {0, 1, 0, 1};
  ExamplesView View() const {
    ExamplesView view;
    view.features = features;
    view.num_features = 3;
    view.labels = labels;
    return view;
  }
};

TEST_F(BnmlpClientTest, CreateModelSendsArchitectureAndOnlyGivenOptions) {
  BnmlpClient client = MakeClient();
  ModelOptions options;
  options.normalization = v1::NORMALIZATION_POST_ACTIVATION;
  options.batch_norm_momentum = 0.2;
  options.seed = 42;
  const int64_t sizes[] = {4, 8, 3};
  absl::StatusOr<v1::ModelInfo> info = client.CreateModel("m", sizes, options);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->name(), "m");
  const v1::CreateModelRequest sent = service_.last_create();
  EXPECT_THAT(sent.layer_sizes(), ElementsAre(4, 8, 3));
  EXPECT_EQ(sent.normalization(), v1::NORMALIZATION_POST_ACTIVATION);
  EXPECT_EQ(sent.seed(), 42u);
  EXPECT_TRUE(sent.has_batch_norm_momentum());
  EXPECT_DOUBLE_EQ(sent.batch_norm_momentum(), 0.2);
  // Unset: the server applies its documented default.
  EXPECT_FALSE(sent.has_batch_norm_epsilon());
  EXPECT_EQ(sent.task(), v1::TASK_UNSPECIFIED);
  EXPECT_EQ(sent.activation(), v1::ACTIVATION_UNSPECIFIED);
}

TEST_F(BnmlpClientTest, CreateModelLeavesEveryUnsetOptionToTheServer) {
  BnmlpClient client = MakeClient();
  const int64_t sizes[] = {4, 3};
  ASSERT_TRUE(client.CreateModel("m", sizes, ModelOptions()).ok());
  const v1::CreateModelRequest sent = service_.last_create();
  EXPECT_EQ(sent.task(), v1::TASK_UNSPECIFIED);
  EXPECT_EQ(sent.normalization(), v1::NORMALIZATION_UNSPECIFIED);
  EXPECT_EQ(sent.activation(), v1::ACTIVATION_UNSPECIFIED);
  EXPECT_FALSE(sent.has_batch_norm_momentum());
  EXPECT_FALSE(sent.has_batch_norm_epsilon());
  EXPECT_EQ(sent.seed(), 0u);
}

TEST_F(BnmlpClientTest, ServerErrorsKeepCodeAndNameRpcCodeAndMessage) {
  BnmlpClient client = MakeClient();
  const int64_t sizes[] = {2, 2};
  absl::StatusOr<v1::ModelInfo> info = client.CreateModel("taken", sizes, {});
  EXPECT_EQ(info.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(info.status().message(),
            "CreateModel: ALREADY_EXISTS: name: model 'taken' already exists");
}

TEST(BnmlpClientUnreachableTest, UnavailableNamesTheAddress) {
  // Port 1 on loopback: nothing listens there (it needs root to bind).
  BnmlpClient client("127.0.0.1:1");
  absl::StatusOr<std::vector<v1::ModelInfo>> models = client.ListModels();
  EXPECT_EQ(models.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(models.status().message(),
              HasSubstr("the server at 127.0.0.1:1 is unreachable"));
}

TEST_F(BnmlpClientTest, HealthReportsServing) {
  BnmlpClient client = MakeClient();
  auto status = client.Health();
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(*status, grpc::health::v1::HealthCheckResponse::SERVING);
}

TEST_F(BnmlpClientTest, TrainSendsTensorsAndPassesOnEveryEvent) {
  BnmlpClient client = MakeClient();
  const SmallSet train;
  const SmallSet validation;
  const ExamplesView validation_view = validation.View();
  TrainOptions options;
  options.epochs = 1;
  options.batch_size = 2;
  options.optimizer = v1::OPTIMIZER_ADAM;
  std::vector<v1::TrainResponse::EventCase> received;
  absl::StatusOr<v1::TrainProgress> summary =
      client.Train("m", train.View(), &validation_view, options,
                   [&](const v1::TrainResponse& event) {
                     received.push_back(event.event_case());
                     return true;
                   });
  ASSERT_TRUE(summary.ok()) << summary.status();
  // The summary is the `done` event's figures.
  EXPECT_EQ(summary->version(), 2);
  EXPECT_EQ(summary->elapsed_seconds(), 1.5);
  EXPECT_THAT(received, ElementsAre(v1::TrainResponse::kProgress,
                                    v1::TrainResponse::kEpochEnd,
                                    v1::TrainResponse::kDone));

  const v1::TrainRequest sent = service_.last_train();
  EXPECT_THAT(sent.x().shape(), ElementsAre(4, 3));
  EXPECT_EQ(sent.x().values(4), 5.0f);
  EXPECT_THAT(sent.labels(), ElementsAre(0, 1, 0, 1));
  EXPECT_THAT(sent.validation_x().shape(), ElementsAre(4, 3));
  EXPECT_EQ(sent.validation_labels_size(), 4);
  EXPECT_EQ(sent.optimizer(), v1::OPTIMIZER_ADAM);
  EXPECT_EQ(sent.batch_size(), 2);
  EXPECT_FALSE(sent.has_momentum());
}

TEST_F(BnmlpClientTest, TrainLeavesEveryUnsetOptionToTheServer) {
  BnmlpClient client = MakeClient();
  const SmallSet train;
  ASSERT_TRUE(
      client.Train("m", train.View(), nullptr, TrainOptions(), {}).ok());
  // proto3's zero / *_UNSPECIFIED / absent: the server's documented
  // defaults (common/api_defaults.h), not the client's.
  const v1::TrainRequest sent = service_.last_train();
  EXPECT_EQ(sent.epochs(), 0);
  EXPECT_EQ(sent.batch_size(), 0);
  EXPECT_EQ(sent.optimizer(), v1::OPTIMIZER_UNSPECIFIED);
  EXPECT_EQ(sent.learning_rate(), 0.0f);
  EXPECT_EQ(sent.learning_rate_schedule(),
            v1::LEARNING_RATE_SCHEDULE_UNSPECIFIED);
  EXPECT_FALSE(sent.has_momentum());
  EXPECT_FALSE(sent.nesterov());
  EXPECT_EQ(sent.weight_decay(), 0.0f);
  EXPECT_EQ(sent.shuffle_seed(), 0u);
}

TEST_F(BnmlpClientTest, TrainSendsEverySetOption) {
  BnmlpClient client = MakeClient();
  const SmallSet train;
  TrainOptions options;
  options.epochs = 10;
  options.batch_size = 128;
  options.optimizer = v1::OPTIMIZER_SGD;
  options.learning_rate = 0.05f;
  options.learning_rate_schedule = v1::LEARNING_RATE_SCHEDULE_COSINE;
  options.momentum = 0.0f;  // Set to zero is not unset: SGD without momentum.
  options.nesterov = false;
  options.weight_decay = 1e-4f;
  options.shuffle_seed = 3;
  ASSERT_TRUE(client.Train("m", train.View(), nullptr, options, {}).ok());
  const v1::TrainRequest sent = service_.last_train();
  EXPECT_EQ(sent.epochs(), 10);
  EXPECT_EQ(sent.batch_size(), 128);
  EXPECT_EQ(sent.optimizer(), v1::OPTIMIZER_SGD);
  EXPECT_EQ(sent.learning_rate(), 0.05f);
  EXPECT_EQ(sent.learning_rate_schedule(), v1::LEARNING_RATE_SCHEDULE_COSINE);
  EXPECT_TRUE(sent.has_momentum());
  EXPECT_EQ(sent.momentum(), 0.0f);
  EXPECT_EQ(sent.weight_decay(), 1e-4f);
  EXPECT_EQ(sent.shuffle_seed(), 3u);
}

TEST_F(BnmlpClientTest, TrainRefusesExplicitZerosTheWireReadsAsUnset) {
  BnmlpClient client = MakeClient();
  const SmallSet train;
  TrainOptions zero_epochs;
  zero_epochs.epochs = 0;
  TrainOptions zero_batch;
  zero_batch.batch_size = 0;
  TrainOptions zero_rate;
  zero_rate.learning_rate = 0.0f;
  for (const auto& [options, field] :
       {std::pair{zero_epochs, "epochs"}, std::pair{zero_batch, "batch_size"},
        std::pair{zero_rate, "learning_rate"}}) {
    absl::StatusOr<v1::TrainProgress> summary =
        client.Train("m", train.View(), nullptr, options, {});
    EXPECT_EQ(summary.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(summary.status().message(),
                HasSubstr(absl::StrCat("Train: ", field, " is 0; expected")));
  }
  EXPECT_EQ(service_.train_calls(), 0);
}

TEST_F(BnmlpClientTest, ShutdownDuringTrainIsUnavailableWithTheServersWords) {
  BnmlpClient client = MakeClient();
  const SmallSet train;
  absl::StatusOr<v1::TrainProgress> summary =
      client.Train("shutdown", train.View(), nullptr, {}, {});
  EXPECT_EQ(summary.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(summary.status().message(),
            absl::StrCat("Train: the server at ", address_,
                         " is unavailable (UNAVAILABLE: ",
                         FakeService::kShutdownMessage, ")"));
}

TEST_F(BnmlpClientTest, AStreamWithoutItsSummaryIsAnError) {
  BnmlpClient client = MakeClient();
  const SmallSet train;
  absl::StatusOr<v1::TrainProgress> summary =
      client.Train("no-summary", train.View(), nullptr, {}, {});
  EXPECT_EQ(summary.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(summary.status().message(), HasSubstr("without a final summary"));
}

TEST_F(BnmlpClientTest, TrainRejectsInconsistentExamplesWithoutSending) {
  BnmlpClient client = MakeClient();
  SmallSet train;
  train.labels.pop_back();
  absl::StatusOr<v1::TrainProgress> summary =
      client.Train("m", train.View(), nullptr, {}, {});
  EXPECT_EQ(summary.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(summary.status().message(),
              HasSubstr("training set: 4 samples but 3 labels"));
  EXPECT_EQ(service_.train_calls(), 0);
}

TEST_F(BnmlpClientTest, ProgressCallbackReturningFalseCancelsTheCall) {
  BnmlpClient client = MakeClient();
  const SmallSet train;
  int calls = 0;
  absl::StatusOr<v1::TrainProgress> summary =
      client.Train("forever", train.View(), nullptr, {},
                   [&](const v1::TrainResponse&) { return ++calls < 2; });
  EXPECT_EQ(summary.status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(calls, 2);
  EXPECT_TRUE(service_.WaitForCancellation());
}

TEST_F(BnmlpClientTest, CancellerStopsTrainingFromAnotherThread) {
  BnmlpClient client = MakeClient();
  const SmallSet train;
  CallCanceller canceller;
  absl::Notification first_progress;
  std::thread cancelling_thread([&] {
    first_progress.WaitForNotification();
    canceller.Cancel();
  });
  absl::StatusOr<v1::TrainProgress> summary = client.Train(
      "forever", train.View(), nullptr, {},
      [&](const v1::TrainResponse&) {
        if (!first_progress.HasBeenNotified()) first_progress.Notify();
        return true;
      },
      &canceller);
  cancelling_thread.join();
  EXPECT_EQ(summary.status().code(), absl::StatusCode::kCancelled);
  EXPECT_THAT(summary.status().message(), HasSubstr("cancelled by the client"));
  EXPECT_TRUE(canceller.cancelled());
  EXPECT_TRUE(service_.WaitForCancellation());
}

TEST_F(BnmlpClientTest, CancelBeforeTrainMakesTheCallFailCancelled) {
  BnmlpClient client = MakeClient();
  const SmallSet train;
  CallCanceller canceller;
  canceller.Cancel();
  absl::StatusOr<v1::TrainProgress> summary =
      client.Train("m", train.View(), nullptr, {}, {}, &canceller);
  EXPECT_EQ(summary.status().code(), absl::StatusCode::kCancelled);
}

TEST_F(BnmlpClientTest, PredictSendsChunksAndJoinsTheAnswers) {
  ClientOptions options;
  options.predict_rows_per_request = 4;
  BnmlpClient client = MakeClient(options);
  std::vector<float> features;  // 10 rows x 2 features, alternating sign.
  for (int r = 0; r < 10; ++r) {
    features.push_back(r % 2 == 0 ? 1.0f : -1.0f);
    features.push_back(0.0f);
  }
  std::vector<int64_t> progress;
  absl::StatusOr<Prediction> prediction =
      client.Predict("m", features, 2, [&](int64_t done, int64_t total) {
        EXPECT_EQ(total, 10);
        progress.push_back(done);
      });
  ASSERT_TRUE(prediction.ok()) << prediction.status();
  EXPECT_THAT(service_.predict_chunk_rows(), ElementsAre(4, 4, 2));
  EXPECT_THAT(progress, ElementsAre(4, 8, 10));
  EXPECT_EQ(prediction->num_rows, 10);
  EXPECT_EQ(prediction->num_outputs, 2);
  EXPECT_EQ(prediction->outputs.size(), 20u);
  EXPECT_THAT(prediction->classes, ElementsAre(1, 0, 1, 0, 1, 0, 1, 0, 1, 0));
  EXPECT_EQ(prediction->version, 7);
  EXPECT_FALSE(prediction->mixed_versions);
}

TEST_F(BnmlpClientTest, PredictRejectsRaggedFeatures) {
  BnmlpClient client = MakeClient();
  const std::vector<float> features = {1, 2, 3};
  absl::StatusOr<Prediction> prediction = client.Predict("m", features, 2);
  EXPECT_EQ(prediction.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(service_.predict_chunk_rows().empty());
}

TEST_F(BnmlpClientTest, GetParametersConvertsAndValidatesTensors) {
  BnmlpClient client = MakeClient();
  absl::StatusOr<ModelParameters> parameters = client.GetParameters("m");
  ASSERT_TRUE(parameters.ok()) << parameters.status();
  EXPECT_EQ(parameters->version, 3);
  ASSERT_EQ(parameters->layers.size(), 1u);
  EXPECT_THAT(parameters->layers[0].weight.shape, ElementsAre(2, 3));
  EXPECT_THAT(parameters->layers[0].weight.values,
              ElementsAre(0, 1, 2, 3, 4, 5));
  EXPECT_TRUE(parameters->layers[0].gamma.empty());

  absl::StatusOr<ModelParameters> malformed = client.GetParameters("malformed");
  EXPECT_EQ(malformed.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(malformed.status().message(),
              HasSubstr("layers[0].weight.shape [2, 3] needs 6 values, got 5"));
}

}  // namespace
}  // namespace bnmlp::client
