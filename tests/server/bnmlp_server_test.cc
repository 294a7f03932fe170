#include "server/bnmlp_server.h"

#include <chrono>
#include <memory>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "tests/server/server_test_util.h"

namespace bnmlp::testing {
namespace {

using ::testing::HasSubstr;

TEST(ValidateServerOptionsTest, DefaultsAreValid) {
  EXPECT_TRUE(ValidateServerOptions(ServerOptions()).ok());
}

TEST(ValidateServerOptionsTest, OutOfRangeOptionsNameTheFlag) {
  struct Case {
    void (*mutate)(ServerOptions&);
    const char* flag;
  };
  const Case cases[] = {
      {[](ServerOptions& o) { o.listen_address = ""; }, "--listen_address"},
      {[](ServerOptions& o) { o.max_message_bytes = 0; },
       "--max_message_bytes"},
      {[](ServerOptions& o) { o.worker_threads = 0; }, "--worker_threads"},
      {[](ServerOptions& o) { o.max_concurrent_predicts = 0; },
       "--max_concurrent_predicts"},
      {[](ServerOptions& o) { o.batching.max_rows = -1; }, "--batch_max_rows"},
      {[](ServerOptions& o) { o.batching.max_rows = 513; }, "--batch_max_rows"},
      {[](ServerOptions& o) {
         o.batching.max_delay = std::chrono::microseconds(-1);
       },
       "--batch_max_delay_us"},
      {[](ServerOptions& o) { o.batching.max_delay = std::chrono::seconds(2); },
       "--batch_max_delay_us"},
      {[](ServerOptions& o) { o.limits.max_models = 0; }, "--max_models"},
      {[](ServerOptions& o) { o.limits.max_parameters = 0; },
       "--max_parameters"},
      {[](ServerOptions& o) { o.limits.max_parameters = int64_t{1} << 40; },
       "--max_parameters"},
      {[](ServerOptions& o) { o.progress_interval = absl::Seconds(-1); },
       "--progress_interval"},
  };
  for (const Case& test_case : cases) {
    ServerOptions options;
    test_case.mutate(options);
    const absl::Status status = ValidateServerOptions(options);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument)
        << test_case.flag;
    EXPECT_THAT(status.message(), HasSubstr(test_case.flag));
    EXPECT_EQ(BnmlpServer::Start(options).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
}

grpc::health::v1::HealthCheckResponse::ServingStatus Health(
    int port, const std::string& service = "") {
  auto stub = grpc::health::v1::Health::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::health::v1::HealthCheckResponse response;
  const grpc::Status status = stub->Check(Context().get(), request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response.status();
}

TEST(BnmlpServerTest, PortZeroPicksAFreePortAndServesHealth) {
  absl::StatusOr<std::unique_ptr<BnmlpServer>> server =
      BnmlpServer::Start(TestServerOptions());
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_GT((*server)->port(), 0);
  EXPECT_EQ(Health((*server)->port()),
            grpc::health::v1::HealthCheckResponse::SERVING);
  (*server)->Shutdown(absl::Seconds(1));
  (*server)->Shutdown(absl::Seconds(1));  // a second call is harmless
}

TEST(BnmlpServerTest, HealthAnswersForTheServerAndForTheServiceName) {
  absl::StatusOr<std::unique_ptr<BnmlpServer>> server =
      BnmlpServer::Start(TestServerOptions());
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_EQ(Health((*server)->port(), ""),
            grpc::health::v1::HealthCheckResponse::SERVING);
  EXPECT_EQ(Health((*server)->port(), "bnmlp.v1.BnMlpService"),
            grpc::health::v1::HealthCheckResponse::SERVING);
}

TEST(BnmlpServerTest, HealthWatchersSeeNotServingAsShutdownBegins) {
  absl::StatusOr<std::unique_ptr<BnmlpServer>> server =
      BnmlpServer::Start(TestServerOptions());
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", (*server)->port()),
                          grpc::InsecureChannelCredentials()));
  std::unique_ptr<grpc::ClientContext> context = Context();
  grpc::health::v1::HealthCheckRequest request;
  request.set_service("bnmlp.v1.BnMlpService");
  auto reader = stub->Watch(context.get(), request);
  grpc::health::v1::HealthCheckResponse response;
  ASSERT_TRUE(reader->Read(&response));
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
  std::thread stopper([&] { (*server)->Shutdown(absl::Seconds(5)); });
  ASSERT_TRUE(reader->Read(&response));
  EXPECT_EQ(response.status(),
            grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  context->TryCancel();
  reader->Finish().IgnoreError();
  stopper.join();
}

TEST(BnmlpServerTest, TakenPortIsUnavailableNamingTheAddress) {
  absl::StatusOr<std::unique_ptr<BnmlpServer>> first =
      BnmlpServer::Start(TestServerOptions());
  ASSERT_TRUE(first.ok()) << first.status();
  ServerOptions options = TestServerOptions();
  options.listen_address = absl::StrCat("127.0.0.1:", (*first)->port());
  const absl::Status status = BnmlpServer::Start(options).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(status.message(), HasSubstr(options.listen_address));
}

TEST(BnmlpServerTest, RegistryLimitsComeFromTheOptions) {
  ServerOptions options = TestServerOptions();
  options.limits.max_models = 3;
  options.limits.max_parameters = 1234;
  absl::StatusOr<std::unique_ptr<BnmlpServer>> server =
      BnmlpServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_EQ((*server)->registry().limits().max_models, 3);
  EXPECT_EQ((*server)->registry().limits().max_parameters, 1234);
}

}  // namespace
}  // namespace bnmlp::testing
