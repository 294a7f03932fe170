// A Train whose client stops reading (grants no HTTP/2 window) never holds
// the server: DeleteModel, the client's own cancellation and SIGTERM each
// end the call promptly and free the model's slot (issue 11, finding 3).
// Before progress was sent from a thread of its own, the handler blocked in
// Write forever: the model stayed TRAINING, DeleteModel left the handler and
// its memory behind, and SIGTERM waited out the whole grace period.
#include <signal.h>
#include <sys/wait.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bnmlp/v1/bnmlp.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "tests/e2e/stall/raw_http2_call.h"
#include "tests/e2e/support/server_process.h"

namespace bnmlp::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kTrainMethod[] = "/bnmlp.v1.BnMlpService/Train";
// Bounds for waiting, not timings under test: a call that has not ended
// after this long is stuck.
constexpr absl::Duration kPatience = absl::Seconds(15);

// 256 rows of 16 features, endless epochs: enough progress events to block
// on, in a request that fits one window.
v1::TrainRequest EndlessTraining(const std::string& name) {
  v1::TrainRequest request;
  request.set_name(name);
  constexpr int kRows = 256;
  constexpr int kFeatures = 16;
  request.mutable_x()->add_shape(kRows);
  request.mutable_x()->add_shape(kFeatures);
  for (int i = 0; i < kRows * kFeatures; ++i) {
    request.mutable_x()->add_values(static_cast<float>((i * 37) % 101) / 101);
  }
  for (int i = 0; i < kRows; ++i) request.add_labels(i % 4);
  request.set_epochs(100000);  // the most a Train may ask for
  request.set_batch_size(8);
  return request;
}

int CountOf(const std::string& text, const std::string& what) {
  int count = 0;
  for (size_t at = text.find(what); at != std::string::npos;
       at = text.find(what, at + 1)) {
    ++count;
  }
  return count;
}

class StalledTrainTest : public ::testing::Test {
 protected:
  void StartServer(std::vector<std::string> flags) {
    absl::StatusOr<std::unique_ptr<ServerProcess>> server =
        ServerProcess::Start(std::move(flags));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = v1::BnMlpService::NewStub(grpc::CreateChannel(
        server_->address(), grpc::InsecureChannelCredentials()));
  }

  // EndlessTraining's 16 features in, 4 classes out.
  void CreateModel(const std::string& name,
                   const std::vector<int>& hidden = {32}) {
    v1::CreateModelRequest request;
    request.set_name(name);
    request.add_layer_sizes(16);
    for (int size : hidden) request.add_layer_sizes(size);
    request.add_layer_sizes(4);
    v1::ModelInfo info;
    grpc::ClientContext context;
    const grpc::Status status = stub_->CreateModel(&context, request, &info);
    ASSERT_TRUE(status.ok()) << status.error_message() << "\n"
                             << server_->Log();
  }

  // Starts a Train that the server cannot send progress to, and returns
  // once the server is blocked writing its first message.
  std::unique_ptr<RawHttp2Call> StartStalledTrain(const std::string& name) {
    absl::StatusOr<std::unique_ptr<RawHttp2Call>> call =
        RawHttp2Call::Start(server_->port(), kTrainMethod,
                            EndlessTraining(name).SerializeAsString());
    EXPECT_TRUE(call.ok()) << call.status();
    if (!call.ok()) return nullptr;
    EXPECT_TRUE((*call)->WaitForResponseHeaders(kPatience))
        << (*call)->HowItEnded() << "\n"
        << server_->Log();
    EXPECT_EQ((*call)->HowItEnded(), "") << server_->Log();
    EXPECT_EQ(TrainingState(name), v1::TRAINING_STATE_TRAINING);
    return *std::move(call);
  }

  v1::TrainingState TrainingState(const std::string& name) {
    v1::GetModelRequest request;
    request.set_name(name);
    v1::ModelInfo info;
    grpc::ClientContext context;
    const grpc::Status status = stub_->GetModel(&context, request, &info);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return info.training_state();
  }

  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<v1::BnMlpService::Stub> stub_;
};

TEST_F(StalledTrainTest, DeleteModelEndsTheCallAndFreesTheSlotEveryTime) {
  // One model at a time: a handler left behind would keep its slot busy
  // (the finding: eight such cycles held 3.1 GB with zero models listed).
  // Each model has 2.2M parameters, so a handler left behind would also
  // keep its model and its run's memory reserved, and eight of them would
  // not fit the budget.
  constexpr int64_t kBudget = 1000000000;
  StartServer({"--max_models=1", absl::StrCat("--max_memory_bytes=", kBudget)});
  constexpr int kCycles = 8;
  for (int cycle = 0; cycle < kCycles; ++cycle) {
    SCOPED_TRACE(absl::StrCat("cycle ", cycle));
    ASSERT_NO_FATAL_FAILURE(CreateModel("stalled", {4096, 512}));
    std::unique_ptr<RawHttp2Call> call = StartStalledTrain("stalled");
    ASSERT_NE(call, nullptr);

    v1::DeleteModelRequest request;
    request.set_name("stalled");
    v1::DeleteModelResponse response;
    grpc::ClientContext context;
    const absl::Time deleted = absl::Now();
    ASSERT_TRUE(stub_->DeleteModel(&context, request, &response).ok());
    EXPECT_TRUE(response.cancelled_training());

    const std::optional<absl::Time> ended = call->WaitForEnd(kPatience);
    ASSERT_TRUE(ended.has_value())
        << "the stalled Train did not end after DeleteModel\n"
        << server_->Log();
    std::cout << "cycle " << cycle << ": the call ended "
              << absl::ToDoubleMilliseconds(*ended - deleted)
              << " ms after DeleteModel\n";
  }
  // Every handler returned and logged its end (the line follows the end of
  // the call by a moment).
  const absl::Time give_up = absl::Now() + kPatience;
  while (CountOf(server_->Log(), "rpc=Train ") < kCycles &&
         absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  const std::string log = server_->Log();
  EXPECT_EQ(CountOf(log, "rpc=Train "), kCycles) << log;
  EXPECT_THAT(log, HasSubstr("event=train_client_stalled"));
  const int64_t peak = server_->PeakRssBytes();
  std::cout << "server peak RSS after " << kCycles << " cycles: " << peak
            << " bytes (now " << server_->RssBytes() << "); budget " << kBudget
            << "\n";
  ASSERT_GT(peak, 0);
  EXPECT_LT(peak, PeakRssBoundForBudget(kBudget));
}

TEST_F(StalledTrainTest, TheClientsCancellationEndsTheTraining) {
  StartServer({});
  ASSERT_NO_FATAL_FAILURE(CreateModel("stalled"));
  std::unique_ptr<RawHttp2Call> call = StartStalledTrain("stalled");
  ASSERT_NE(call, nullptr);
  ASSERT_TRUE(call->Cancel().ok());
  // The model leaves TRAINING and keeps serving its last version.
  const absl::Time give_up = absl::Now() + kPatience;
  while (TrainingState("stalled") == v1::TRAINING_STATE_TRAINING &&
         absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(TrainingState("stalled"), v1::TRAINING_STATE_CANCELLED)
      << server_->Log();
}

TEST_F(StalledTrainTest, SigtermDoesNotWaitOutTheGracePeriod) {
  // A grace period far longer than any stop should take: the server must
  // stop the stalled call itself rather than wait for it.
  StartServer({"--shutdown_grace_seconds=60"});
  ASSERT_NO_FATAL_FAILURE(CreateModel("stalled"));
  std::unique_ptr<RawHttp2Call> call = StartStalledTrain("stalled");
  ASSERT_NE(call, nullptr);
  const absl::Time signalled = absl::Now();
  absl::StatusOr<int> wait_status = server_->Stop(SIGTERM, absl::Seconds(30));
  ASSERT_TRUE(wait_status.ok())
      << wait_status.status() << " (still running 30 s after SIGTERM)\n"
      << server_->Log();
  EXPECT_TRUE(WIFEXITED(*wait_status) && WEXITSTATUS(*wait_status) == 0)
      << server_->Log();
  std::cout << "the server exited "
            << absl::ToDoubleMilliseconds(absl::Now() - signalled)
            << " ms after SIGTERM\n";
  EXPECT_TRUE(call->WaitForEnd(kPatience).has_value());
}

}  // namespace
}  // namespace bnmlp::testing
