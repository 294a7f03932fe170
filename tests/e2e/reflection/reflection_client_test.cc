// The real bnmlp-server, reached only through server reflection: what a
// grpcurl user sees with no .proto file at hand.
#include "tests/e2e/reflection/reflection_client.h"

#include <memory>

#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "tests/e2e/support/server_process.h"

namespace bnmlp::testing {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::IsSupersetOf;

class ReflectionClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<ServerProcess>> server =
        ServerProcess::Start();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    client_ = std::make_unique<ReflectionClient>(grpc::CreateChannel(
        server_->address(), grpc::InsecureChannelCredentials()));
  }

  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<ReflectionClient> client_;
};

TEST_F(ReflectionClientTest, ListsTheServiceHealthAndReflection) {
  absl::StatusOr<std::vector<std::string>> services = client_->ListServices();
  ASSERT_TRUE(services.ok()) << services.status();
  EXPECT_THAT(*services,
              IsSupersetOf({"bnmlp.v1.BnMlpService", "grpc.health.v1.Health",
                            "grpc.reflection.v1alpha."
                            "ServerReflection"}));
}

TEST_F(ReflectionClientTest, DescribesEveryRpcAndTheHealthService) {
  absl::StatusOr<std::string> service =
      client_->Describe("bnmlp.v1.BnMlpService");
  ASSERT_TRUE(service.ok()) << service.status();
  for (const char* rpc :
       {"rpc CreateModel(.bnmlp.v1.CreateModelRequest) returns "
        "(.bnmlp.v1.ModelInfo)",
        "rpc Train(.bnmlp.v1.TrainRequest) returns (stream "
        ".bnmlp.v1.TrainResponse)",
        "rpc Predict(", "rpc GetParameters(", "rpc ListModels(",
        "rpc GetModel(", "rpc DeleteModel("}) {
    EXPECT_THAT(*service, HasSubstr(rpc));
  }
  absl::StatusOr<std::string> tensor = client_->Describe("bnmlp.v1.Tensor");
  ASSERT_TRUE(tensor.ok()) << tensor.status();
  EXPECT_THAT(*tensor, HasSubstr("repeated float values = 2"));
  absl::StatusOr<std::string> health =
      client_->Describe("grpc.health.v1.Health");
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_THAT(*health, HasSubstr("rpc Check("));
}

TEST_F(ReflectionClientTest, HealthCheckIsServing) {
  absl::StatusOr<ReflectionClient::CallResult> result =
      client_->CallJson("grpc.health.v1.Health/Check", "{}");
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_TRUE(result->status.ok()) << result->status.error_message();
  ASSERT_EQ(result->responses_json.size(), 1u);
  EXPECT_EQ(result->responses_json[0], R"({"status":"SERVING"})");
}

TEST_F(ReflectionClientTest, ServerErrorsArriveWithTheirCodeAndMessage) {
  absl::StatusOr<ReflectionClient::CallResult> result = client_->CallJson(
      "bnmlp.v1.BnMlpService/GetModel", R"({"name": "nobody"})");
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(result->status.error_message(),
              HasSubstr("model 'nobody' not found"));
  // ...and the server logged the call.
  EXPECT_THAT(server_->Log(),
              ContainsRegex("WARNING rpc=GetModel id=[0-9a-f]+-[0-9]+ "
                            "peer=ipv[46]:[^ ]+ model=nobody code=NOT_FOUND"));
}

TEST_F(ReflectionClientTest, BadJsonOrUnknownMethodIsAClientSideError) {
  EXPECT_EQ(
      client_->CallJson("bnmlp.v1.BnMlpService/GetModel", R"({"nmae": "x"})")
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      client_->CallJson("bnmlp.v1.BnMlpService/Fly", "{}").status().code(),
      absl::StatusCode::kNotFound);
  EXPECT_EQ(client_->CallJson("no.Such/Method", "{}").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace bnmlp::testing
