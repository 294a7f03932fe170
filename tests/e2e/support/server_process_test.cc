#include "tests/e2e/support/server_process.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"

namespace bnmlp::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

grpc::health::v1::HealthCheckResponse::ServingStatus CheckHealth(
    const std::string& address) {
  auto stub = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(10));
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  EXPECT_TRUE(stub->Check(&context, request, &response).ok());
  return response.status();
}

TEST(BinaryPathsTest, ServerBinaryExistsAndIsExecutable) {
  EXPECT_EQ(access(BnmlpServerPath().c_str(), X_OK), 0) << BnmlpServerPath();
}

TEST(ServerProcessTest, StartsServingOnALoopbackPortAndStopsCleanly) {
  absl::StatusOr<std::unique_ptr<ServerProcess>> server =
      ServerProcess::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_THAT((*server)->address(), StartsWith("127.0.0.1:"));
  EXPECT_GT((*server)->port(), 0);
  EXPECT_EQ(CheckHealth((*server)->address()),
            grpc::health::v1::HealthCheckResponse::SERVING);
  EXPECT_THAT((*server)->Log(), HasSubstr((*server)->address()));

  absl::StatusOr<int> wait_status = (*server)->Stop(SIGTERM);
  ASSERT_TRUE(wait_status.ok()) << wait_status.status();
  EXPECT_TRUE(WIFEXITED(*wait_status) && WEXITSTATUS(*wait_status) == 0)
      << (*server)->Log();
  EXPECT_FALSE((*server)->running());
  EXPECT_EQ((*server)->Stop().status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(ServerProcessTest, ExtraFlagsReachTheServer) {
  // An invalid flag value makes the server exit at startup; Start reports
  // it with the server's own explanation.
  absl::StatusOr<std::unique_ptr<ServerProcess>> server =
      ServerProcess::Start({"--max_models=0"});
  ASSERT_FALSE(server.ok());
  EXPECT_THAT(server.status().message(), HasSubstr("exited during startup"));
  EXPECT_THAT(server.status().message(), HasSubstr("max_models"));
}

TEST(ServerProcessTest, DestructorKillsARunningServer) {
  pid_t pid = -1;
  {
    absl::StatusOr<std::unique_ptr<ServerProcess>> server =
        ServerProcess::Start();
    ASSERT_TRUE(server.ok()) << server.status();
    pid = (*server)->pid();
    ASSERT_EQ(kill(pid, 0), 0);
  }
  EXPECT_EQ(kill(pid, 0), -1);
  EXPECT_EQ(errno, ESRCH);
}

TEST(ServerProcessTest, TwoServersGetDifferentPorts) {
  absl::StatusOr<std::unique_ptr<ServerProcess>> first = ServerProcess::Start();
  absl::StatusOr<std::unique_ptr<ServerProcess>> second =
      ServerProcess::Start();
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_NE((*first)->port(), (*second)->port());
}

}  // namespace
}  // namespace bnmlp::testing
