// The real bnmlp-server under --max_memory_bytes (issue 11, section 2). On
// the old main, with the server's defaults, a Predict of 640 rows on a
// [1, 3355442, 2] model (within --max_parameters) drove its RSS past 8 GB,
// a Train of it about 42 MB per row, and 24 concurrent GetParameters of a
// 16M-parameter model added 3 GB. Here each call either fits or gets
// RESOURCE_EXHAUSTED with the figures, every model stays intact, and the
// server's peak RSS stays under the budget.
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bnmlp/v1/bnmlp.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"
#include "gtest/gtest.h"
#include "tests/e2e/support/server_process.h"

namespace bnmlp::testing {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kBudget = 1500000000;

// A refusal of the budget says so with the figures and the flag.
void ExpectBudgetRefusal(const grpc::Status& status) {
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("more bytes;"));
  EXPECT_THAT(status.error_message(),
              HasSubstr(absl::StrCat("of the ", kBudget,
                                     " bytes allowed are in use "
                                     "(--max_memory_bytes)")));
}

class MemoryBudgetE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<ServerProcess>> server =
        ServerProcess::Start({absl::StrCat("--max_memory_bytes=", kBudget),
                              "--worker_threads=2", "--compute_threads=2"});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(-1);
    args.SetMaxSendMessageSize(-1);
    stub_ = v1::BnMlpService::NewStub(grpc::CreateCustomChannel(
        server_->address(), grpc::InsecureChannelCredentials(), args));
  }

  void CreateModel(const std::string& name, const std::vector<int>& sizes) {
    v1::CreateModelRequest create;
    create.set_name(name);
    for (int size : sizes) create.add_layer_sizes(size);
    v1::ModelInfo info;
    grpc::ClientContext context;
    const grpc::Status status = stub_->CreateModel(&context, create, &info);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }

  // A Predict of `rows` single-feature rows on `name`.
  grpc::Status Predict(const std::string& name, int rows,
                       v1::PredictResponse* response) {
    v1::PredictRequest predict;
    predict.set_name(name);
    predict.mutable_x()->add_shape(rows);
    predict.mutable_x()->add_shape(1);
    for (int i = 0; i < rows; ++i) {
      predict.mutable_x()->add_values(static_cast<float>(i % 7) - 3);
    }
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(120)));
    return stub_->Predict(&context, predict, response);
  }

  grpc::Status Train(const std::string& name, int rows, int batch_size) {
    v1::TrainRequest train;
    train.set_name(name);
    train.mutable_x()->add_shape(rows);
    train.mutable_x()->add_shape(1);
    for (int i = 0; i < rows; ++i) {
      train.mutable_x()->add_values(static_cast<float>(i % 7) - 3);
      train.add_labels(i % 7 > 3 ? 1 : 0);
    }
    train.set_batch_size(batch_size);
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(120)));
    std::unique_ptr<grpc::ClientReader<v1::TrainResponse>> reader =
        stub_->Train(&context, train);
    v1::TrainResponse event;
    while (reader->Read(&event)) {
    }
    return reader->Finish();
  }

  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<v1::BnMlpService::Stub> stub_;
};

TEST_F(MemoryBudgetE2eTest, EveryCallFitsOrIsRefusedAndRssStaysUnder) {
  // 16,777,212 parameters: within the default --max_parameters.
  CreateModel("wide", {1, 3355442, 2});
  // 640 rows in chunks of 2 (a 64 MiB workspace), not 640 at once (8 GB).
  v1::PredictResponse predicted;
  grpc::Status status = Predict("wide", 640, &predicted);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(predicted.outputs().values_size(), 640 * 2);
  EXPECT_EQ(predicted.classes_size(), 640);
  std::cerr << "peak RSS after Predict: " << server_->PeakRssBytes() << "\n";

  // Batches of 32 would need about 2 GB of activations: refused up front.
  ExpectBudgetRefusal(Train("wide", 64, 32));
  // Batches of 8 fit, and train.
  status = Train("wide", 64, 8);
  ASSERT_TRUE(status.ok()) << status.error_message();
  std::cerr << "peak RSS after Train: " << server_->PeakRssBytes() << "\n";

  // 24 concurrent GetParameters of a 16M-parameter model (64 MB each).
  CreateModel("big", {4000, 4000, 4});
  std::cerr << "peak RSS after CreateModel: " << server_->PeakRssBytes()
            << ", RSS now " << server_->RssBytes() << "\n";
  constexpr int kCalls = 24;
  std::vector<grpc::Status> statuses(kCalls);
  std::vector<int64_t> weights(kCalls, 0);
  {
    std::vector<std::thread> threads;
    for (int i = 0; i < kCalls; ++i) {
      threads.emplace_back([this, i, &statuses, &weights] {
        v1::GetParametersRequest request;
        request.set_name("big");
        v1::GetParametersResponse response;
        grpc::ClientContext context;
        context.set_deadline(
            absl::ToChronoTime(absl::Now() + absl::Seconds(120)));
        statuses[i] = stub_->GetParameters(&context, request, &response);
        if (response.layers_size() > 0) {
          weights[i] = response.layers(0).weight().values_size();
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
  }
  int served = 0;
  for (int i = 0; i < kCalls; ++i) {
    if (statuses[i].ok()) {
      ++served;
      EXPECT_EQ(weights[i], 4000 * 4000);
    } else {
      ExpectBudgetRefusal(statuses[i]);
    }
  }
  EXPECT_GE(served, 1);

  // The server is up and both models answer.
  status = Predict("wide", 4, &predicted);
  EXPECT_TRUE(status.ok()) << status.error_message();
  v1::PredictRequest big;
  big.set_name("big");
  big.mutable_x()->add_shape(1);
  big.mutable_x()->add_shape(4000);
  big.mutable_x()->mutable_values()->Resize(4000, 0.25f);
  v1::PredictResponse big_predicted;
  grpc::ClientContext context;
  status = stub_->Predict(&context, big, &big_predicted);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(big_predicted.outputs().values_size(), 4);

  const int64_t peak = server_->PeakRssBytes();
  std::cerr << "server peak RSS (VmHWM): " << peak << " bytes; budget "
            << kBudget << "; GetParameters served " << served << " of "
            << kCalls << "\n";
  ASSERT_GT(peak, 0);
  EXPECT_LT(peak, PeakRssBoundForBudget(kBudget)) << server_->Log();
}

}  // namespace
}  // namespace bnmlp::testing
