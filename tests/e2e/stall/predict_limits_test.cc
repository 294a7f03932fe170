// Predicts that could hold or flood the real server (issue 11, findings 6
// and 7): one past its deadline stops computing instead of running to the
// end and logging OK, and one that echoes a huge shape gets a short status
// and a short log line.
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "bnmlp/v1/bnmlp.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "tests/e2e/support/server_process.h"

namespace bnmlp::testing {
namespace {

using ::testing::HasSubstr;

class PredictLimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<ServerProcess>> server =
        ServerProcess::Start();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = v1::BnMlpService::NewStub(grpc::CreateChannel(
        server_->address(), grpc::InsecureChannelCredentials()));
  }

  // The server's log line for the call with this model name, once written.
  std::string RpcLine(const std::string& rpc, const std::string& model) {
    const std::string needle = absl::StrCat("rpc=", rpc, " ");
    const absl::Time give_up = absl::Now() + absl::Seconds(30);
    while (absl::Now() < give_up) {
      for (absl::string_view line :
           absl::StrSplit(server_->Log(), '\n', absl::SkipEmpty())) {
        if (absl::StrContains(line, needle) &&
            absl::StrContains(line, absl::StrCat("model=", model, " "))) {
          return std::string(line);
        }
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
    return "";
  }

  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<v1::BnMlpService::Stub> stub_;
};

TEST_F(PredictLimitsTest, APredictPastItsDeadlineStopsComputing) {
  // About 280 GFLOP in a 4 MB request (a large request could still be
  // arriving when a 0.3 s deadline passes, and never reach the handler):
  // seconds of work even at this machine's FMA peak.
  v1::CreateModelRequest create;
  create.set_name("big");
  for (int size : {64, 2048, 2048, 2048, 10}) create.add_layer_sizes(size);
  v1::ModelInfo info;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(stub_->CreateModel(&context, create, &info).ok());
  }
  v1::PredictRequest predict;
  predict.set_name("big");
  constexpr int kRows = 16384;
  predict.mutable_x()->add_shape(kRows);
  predict.mutable_x()->add_shape(64);
  predict.mutable_x()->mutable_values()->Resize(kRows * 64, 0.5f);
  v1::PredictResponse response;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(0.3)));
  const grpc::Status status = stub_->Predict(&context, predict, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  // The server noticed too, mid-computation, rather than finishing with OK.
  const std::string line = RpcLine("Predict", "big");
  EXPECT_THAT(line, HasSubstr("code=DEADLINE_EXCEEDED")) << server_->Log();
  EXPECT_THAT(line, HasSubstr("deadline passed")) << line;
}

TEST_F(PredictLimitsTest, AHugeShapeGetsABoundedStatusAndLogLine) {
  // A million dimensions (the finding used ten million: a 30 MB log line
  // and a 300 KB status that default clients reject).
  v1::CreateModelRequest create;
  create.set_name("small");
  for (int size : {4, 3}) create.add_layer_sizes(size);
  v1::ModelInfo info;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(stub_->CreateModel(&context, create, &info).ok());
  }
  v1::PredictRequest predict;
  predict.set_name("small");
  for (int i = 0; i < 1000000; ++i) predict.mutable_x()->add_shape(7);
  v1::PredictResponse response;
  grpc::ClientContext context;
  const grpc::Status status = stub_->Predict(&context, predict, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("x"));
  EXPECT_LT(status.error_message().size(), 1000u) << status.error_message();
  const std::string line = RpcLine("Predict", "small");
  EXPECT_THAT(line, HasSubstr("code=INVALID_ARGUMENT"));
  EXPECT_LT(line.size(), 1000u) << line.substr(0, 2000);
}

}  // namespace
}  // namespace bnmlp::testing
