// Runs examples/grpcurl.sh's requests, in order and with the same JSON
// bodies, against the real bnmlp-server through reflection, and checks what
// each documented command returns.
#include <fstream>
#include <memory>
#include <sstream>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "tests/e2e/reflection/grpcurl_script.h"
#include "tests/e2e/reflection/reflection_client.h"
#include "tests/e2e/support/server_process.h"

namespace bnmlp::testing {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using Verb = GrpcurlCommand::Verb;

std::vector<GrpcurlCommand> ExampleCommands() {
  std::ifstream file(BNMLP_SOURCE_DIR "/examples/grpcurl.sh");
  std::stringstream text;
  text << file.rdbuf();
  absl::StatusOr<std::vector<GrpcurlCommand>> commands =
      ParseGrpcurlScript(text.str());
  EXPECT_TRUE(commands.ok()) << commands.status();
  return commands.ok() ? *commands : std::vector<GrpcurlCommand>();
}

// What the documented command must answer (compact proto3 JSON).
void CheckResponse(const std::string& method,
                   const std::vector<std::string>& json) {
  ASSERT_FALSE(json.empty()) << method;
  const std::string& last = json.back();
  if (method == "grpc.health.v1.Health/Check") {
    EXPECT_EQ(last, R"({"status":"SERVING"})");
  } else if (absl::EndsWith(method, "/CreateModel")) {
    EXPECT_THAT(last, HasSubstr(R"("version":"1")"));
  } else if (absl::EndsWith(method, "/Train")) {
    // Exactly one message per epoch end (20), then the summary.
    int epoch_ends = 0;
    for (const std::string& message : json) {
      epoch_ends += absl::StartsWith(message, R"({"epochEnd":)");
    }
    EXPECT_EQ(epoch_ends, 20);
    EXPECT_THAT(last, HasSubstr(R"({"done":{)"));
    EXPECT_THAT(last, HasSubstr(R"("version":"21")"));
    EXPECT_THAT(last, HasSubstr(R"("accuracy":1)"));  // separable toy set
  } else if (absl::EndsWith(method, "/Predict")) {
    EXPECT_THAT(last, HasSubstr(R"("classes":[0,1])"));
    EXPECT_THAT(last, HasSubstr(R"("shape":["2","2"])"));
  } else if (absl::EndsWith(method, "/GetParameters")) {
    EXPECT_THAT(last, HasSubstr(R"("layerSizes":["2","8","2"])"));
    EXPECT_THAT(last, HasSubstr(R"("runningVar":)"));
  } else if (absl::EndsWith(method, "/GetModel")) {
    EXPECT_THAT(last, HasSubstr(R"("trainingState":"TRAINING_STATE_TRAINED")"));
  } else if (absl::EndsWith(method, "/ListModels")) {
    EXPECT_THAT(last, HasSubstr(R"("name":"toy")"));
  } else if (absl::EndsWith(method, "/DeleteModel")) {
    EXPECT_EQ(last, "{}");  // cancelled_training false: the default
  } else {
    ADD_FAILURE() << "no expectation for " << method;
  }
}

TEST(GrpcurlExamplesTest, EveryDocumentedCommandWorksThroughReflection) {
  const std::vector<GrpcurlCommand> commands = ExampleCommands();
  ASSERT_FALSE(commands.empty());
  absl::StatusOr<std::unique_ptr<ServerProcess>> server =
      ServerProcess::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  ReflectionClient client(grpc::CreateChannel(
      (*server)->address(), grpc::InsecureChannelCredentials()));

  for (const GrpcurlCommand& command : commands) {
    SCOPED_TRACE(::testing::Message()
                 << "examples/grpcurl.sh line " << command.line << ": "
                 << command.target);
    switch (command.verb) {
      case Verb::kList: {
        absl::StatusOr<std::vector<std::string>> services =
            client.ListServices();
        ASSERT_TRUE(services.ok()) << services.status();
        EXPECT_THAT(*services, Contains("bnmlp.v1.BnMlpService"));
        break;
      }
      case Verb::kDescribe: {
        absl::StatusOr<std::string> text = client.Describe(command.target);
        EXPECT_TRUE(text.ok()) << text.status();
        break;
      }
      case Verb::kCall: {
        absl::StatusOr<ReflectionClient::CallResult> result =
            client.CallJson(command.target, command.request_json);
        ASSERT_TRUE(result.ok()) << result.status();
        ASSERT_TRUE(result->status.ok()) << result->status.error_message();
        CheckResponse(command.target, result->responses_json);
        break;
      }
    }
  }
  absl::StatusOr<int> wait_status = (*server)->Stop(SIGTERM);
  ASSERT_TRUE(wait_status.ok()) << wait_status.status();
  EXPECT_TRUE(WIFEXITED(*wait_status) && WEXITSTATUS(*wait_status) == 0)
      << (*server)->Log();
}

}  // namespace
}  // namespace bnmlp::testing
