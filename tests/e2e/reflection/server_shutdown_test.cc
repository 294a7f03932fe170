// bnmlp-server's lifecycle as an operator sees it: SIGTERM/SIGINT shut it
// down cleanly (exit 0), also while a Train is running, and it logs one line
// per event.
#include <sys/wait.h>

#include <memory>
#include <thread>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "tests/e2e/reflection/reflection_client.h"
#include "tests/e2e/support/server_process.h"

namespace bnmlp::testing {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;

bool ExitedCleanly(int wait_status) {
  return WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0;
}

class ServerShutdownTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<ServerProcess>> server =
        ServerProcess::Start({"--shutdown_grace_seconds=5"});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  std::unique_ptr<ReflectionClient> NewClient() {
    return std::make_unique<ReflectionClient>(grpc::CreateChannel(
        server_->address(), grpc::InsecureChannelCredentials()));
  }

  std::unique_ptr<ServerProcess> server_;
};

TEST_F(ServerShutdownTest, SigtermExitsZeroAndLogsEachEvent) {
  auto client = NewClient();
  ASSERT_TRUE(client->CallJson("bnmlp.v1.BnMlpService/ListModels", "{}").ok());
  absl::StatusOr<int> wait_status = server_->Stop(SIGTERM);
  ASSERT_TRUE(wait_status.ok()) << wait_status.status();
  const std::string log = server_->Log();
  EXPECT_TRUE(ExitedCleanly(*wait_status)) << log;
  EXPECT_THAT(log, HasSubstr("event=listening version="));
  EXPECT_THAT(log, HasSubstr(" address=127.0.0.1:"));
  // Every RPC line has a level, a request id and the peer.
  EXPECT_THAT(log, ContainsRegex("INFO rpc=ListModels id=[0-9a-f]+-[0-9]+ "
                                 "peer=ipv[46]:[^ ]+ model=- code=OK ms="));
  EXPECT_THAT(log, HasSubstr("event=signal signal=Terminated"));
  EXPECT_THAT(log, HasSubstr("event=stopped"));
}

TEST_F(ServerShutdownTest, SigintExitsZero) {
  absl::StatusOr<int> wait_status = server_->Stop(SIGINT);
  ASSERT_TRUE(wait_status.ok()) << wait_status.status();
  EXPECT_TRUE(ExitedCleanly(*wait_status)) << server_->Log();
}

TEST_F(ServerShutdownTest, SigtermDuringTrainCancelsItAndExitsZero) {
  auto client = NewClient();
  ASSERT_TRUE(client
                  ->CallJson("bnmlp.v1.BnMlpService/CreateModel",
                             R"({"name": "long", "layerSizes": [2, 16, 2]})")
                  .ok());
  // 100,000 epochs: only the shutdown can end this Train.
  const std::string train = R"({"name": "long",
      "x": {"shape": [4, 2], "values": [0, 0, 0, 1, 1, 0, 1, 1]},
      "labels": [0, 1, 1, 0], "epochs": 100000, "batchSize": 2})";
  grpc::Status train_status;
  std::thread trainer([&] {
    auto train_client = NewClient();
    absl::StatusOr<ReflectionClient::CallResult> result =
        train_client->CallJson("bnmlp.v1.BnMlpService/Train", train);
    ASSERT_TRUE(result.ok()) << result.status();
    train_status = result->status;
  });
  // Wait until the model is training (bounded; no timing is asserted).
  const absl::Time give_up = absl::Now() + absl::Seconds(60);
  bool training = false;
  while (!training && absl::Now() < give_up) {
    absl::StatusOr<ReflectionClient::CallResult> info = client->CallJson(
        "bnmlp.v1.BnMlpService/GetModel", R"({"name": "long"})");
    ASSERT_TRUE(info.ok()) << info.status();
    training =
        !info->responses_json.empty() &&
        absl::StrContains(info->responses_json[0],
                          R"("trainingState":"TRAINING_STATE_TRAINING")");
    if (!training) absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_TRUE(training);

  absl::StatusOr<int> wait_status = server_->Stop(SIGTERM);
  trainer.join();
  ASSERT_TRUE(wait_status.ok()) << wait_status.status();
  const std::string log = server_->Log();
  EXPECT_TRUE(ExitedCleanly(*wait_status)) << log;
  // The client learns that the server went away and what the model kept,
  // from the server itself (not the transport's "Cancelling all calls").
  EXPECT_EQ(train_status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(train_status.error_message(),
              HasSubstr("the server is shutting down"));
  EXPECT_THAT(train_status.error_message(),
              HasSubstr("the model keeps version"));
  EXPECT_THAT(log, HasSubstr("cancelled_trainings=1"));
  EXPECT_THAT(log, ContainsRegex("WARNING rpc=Train id=[^ ]+ peer=[^ ]+ "
                                 "model=long code=UNAVAILABLE"));
}

}  // namespace
}  // namespace bnmlp::testing
