#include "server/metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bnmlp/v1/bnmlp.grpc.pb.h"
#include "common/build_info.h"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "server/bnmlp_server.h"

namespace bnmlp {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// GET `path` over HTTP/1.0; the whole response (status line, headers,
// body), or what came before an error.
std::string HttpGetForTest(const std::string& host, int port,
                           const std::string& path) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "socket failed";
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, host.c_str(), &address.sin_addr);
  std::string response;
  if (connect(fd, reinterpret_cast<const sockaddr*>(&address),
              sizeof(address)) == 0) {
    const std::string request =
        absl::StrCat("GET ", path, " HTTP/1.0\r\nHost: ", host, "\r\n\r\n");
    if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
        static_cast<ssize_t>(request.size())) {
      char buffer[4096];
      ssize_t n;
      while ((n = recv(fd, buffer, sizeof(buffer), 0)) > 0) {
        response.append(buffer, static_cast<size_t>(n));
      }
    }
  }
  close(fd);
  return response;
}

TEST(ServerMetricsTest, CountsCallsByMethodAndCodeWithLatency) {
  ServerMetrics metrics([] {
    ServerGauges gauges;
    gauges.models = 3;
    gauges.datasets = 2;
    gauges.memory_limit_bytes = 1000;
    gauges.memory_bytes_by_kind = {{"models", 600}, {"serving", 25}};
    return gauges;
  });
  const absl::Status ok;
  const absl::Status not_found = absl::NotFoundError("no model");
  metrics.OnFinished(
      {"Predict", "m", "id-1", "peer", ok, absl::Microseconds(80)});
  metrics.OnFinished({"Predict", "m", "id-2", "peer", ok, absl::Seconds(2)});
  metrics.OnFinished(
      {"GetModel", "x", "id-3", "peer", not_found, absl::Milliseconds(1)});
  const std::string text = metrics.Scrape();
  EXPECT_THAT(text, HasSubstr("bnmlp_rpc_requests_total{code=\"OK\",method="
                              "\"Predict\"} 2"));
  EXPECT_THAT(text, HasSubstr("bnmlp_rpc_requests_total{code=\"NOT_FOUND\","
                              "method=\"GetModel\"} 1"));
  EXPECT_THAT(text, HasSubstr("bnmlp_rpc_duration_seconds_count{method="
                              "\"Predict\"} 2"));
  EXPECT_THAT(text, HasSubstr("bnmlp_rpc_duration_seconds_sum{method="
                              "\"Predict\"} 2.00008"));
  EXPECT_THAT(text, HasSubstr("bnmlp_models 3"));
  EXPECT_THAT(text, HasSubstr("bnmlp_datasets 2"));
  EXPECT_THAT(text, HasSubstr("bnmlp_memory_bytes{kind=\"models\"} 600"));
  EXPECT_THAT(text, HasSubstr("bnmlp_memory_bytes{kind=\"serving\"} 25"));
  EXPECT_THAT(text, HasSubstr("bnmlp_memory_limit_bytes 1000"));
  EXPECT_THAT(text, HasSubstr(absl::StrCat("bnmlp_build_info{git=\"",
                                           GitCommit(), "\",version=\"",
                                           ProjectVersion(), "\"} 1")));
}

TEST(ServerMetricsTest, ModelSeriesAreDroppedWhenTheModelIs) {
  ServerMetrics metrics([] { return ServerGauges(); });
  metrics.AddPredictRows("fmnist", 256);
  metrics.AddPredictRows("fmnist", 1);
  metrics.SetEpochFigures("fmnist", {12345.5, 0.25, true, 0.875});
  metrics.CountTraining("fmnist", "ok");
  metrics.SetEpochFigures("other", {1, 2, false, 0});
  std::string text = metrics.Scrape();
  EXPECT_THAT(text,
              HasSubstr("bnmlp_predict_rows_total{model=\"fmnist\"} 257"));
  EXPECT_THAT(text, HasSubstr("bnmlp_training_samples_per_second{model="
                              "\"fmnist\"} 12345.5"));
  EXPECT_THAT(text, HasSubstr("bnmlp_training_loss{model=\"fmnist\"} 0.25"));
  EXPECT_THAT(text, HasSubstr("bnmlp_training_validation_accuracy{model="
                              "\"fmnist\"} 0.875"));
  EXPECT_THAT(text, HasSubstr("bnmlp_trainings_total{model=\"fmnist\","
                              "outcome=\"ok\"} 1"));
  // No validation, no validation series.
  EXPECT_THAT(text, Not(HasSubstr("validation_accuracy{model=\"other\"")));

  metrics.ForgetModel("fmnist");
  text = metrics.Scrape();
  EXPECT_THAT(text, Not(HasSubstr("model=\"fmnist\"")));
  EXPECT_THAT(text, HasSubstr("bnmlp_training_loss{model=\"other\"} 2"));
}

// Through a real server: a Predict moves the counters, and the exposer
// serves them over HTTP.
TEST(ServerMetricsTest, TheServerCountsItsCallsAndServesThem) {
  ServerOptions options;
  options.listen_address = "127.0.0.1:0";
  options.metrics_address = "127.0.0.1:0";
  options.max_memory_bytes = int64_t{1} << 30;
  absl::StatusOr<std::unique_ptr<BnmlpServer>> server =
      BnmlpServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_GT((*server)->metrics_port(), 0);
  auto stub = v1::BnMlpService::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", (*server)->port()),
                          grpc::InsecureChannelCredentials()));
  v1::CreateModelRequest create;
  create.set_name("m");
  for (int size : {2, 3}) create.add_layer_sizes(size);
  v1::ModelInfo info;
  grpc::ClientContext create_context;
  ASSERT_TRUE(stub->CreateModel(&create_context, create, &info).ok());
  v1::PredictRequest predict;
  predict.set_name("m");
  predict.mutable_x()->add_shape(4);
  predict.mutable_x()->add_shape(2);
  predict.mutable_x()->mutable_values()->Resize(8, 0.5f);
  v1::PredictResponse response;
  grpc::ClientContext predict_context;
  ASSERT_TRUE(stub->Predict(&predict_context, predict, &response).ok());

  // A plain HTTP GET, as Prometheus scrapes. The server may still be
  // finishing the call (and holding its memory) when the client has its
  // answer: scrape again (bounded) until the reservation is back.
  const auto scrape_metrics = [&] {
    return HttpGetForTest("127.0.0.1", (*server)->metrics_port(), "/metrics");
  };
  std::string scrape = scrape_metrics();
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (!absl::StrContains(scrape, "bnmlp_memory_bytes{kind=\"serving\"} 0") &&
         absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(5));
    scrape = scrape_metrics();
  }
  EXPECT_THAT(scrape, HasSubstr("200 OK"));
  EXPECT_THAT(scrape, HasSubstr("bnmlp_rpc_requests_total{code=\"OK\","
                                "method=\"Predict\"} 1"));
  EXPECT_THAT(scrape, HasSubstr("bnmlp_predict_rows_total{model=\"m\"} 4"));
  EXPECT_THAT(scrape, HasSubstr("bnmlp_models 1"));
  // The budget's accounts: the model holds what the registry reserved for
  // it, and the Predict's reservation ended with the call.
  ModelConfig config;
  config.layer_sizes = {2, 3};
  EXPECT_THAT(scrape,
              HasSubstr(absl::StrCat("bnmlp_memory_bytes{kind=\"models\"} ",
                                     ModelMemoryBytes(config))));
  EXPECT_THAT(scrape, HasSubstr("bnmlp_memory_bytes{kind=\"serving\"} 0"));
  EXPECT_THAT(scrape, HasSubstr("bnmlp_memory_bytes{kind=\"datasets\"} 0"));
  // The rest of the process's budget is the server's own baseline.
  const int64_t baseline =
      (*server)->memory().used() - ModelMemoryBytes(config);
  EXPECT_GT(baseline, 0);
  EXPECT_THAT(scrape, HasSubstr(absl::StrCat(
                          "bnmlp_memory_bytes{kind=\"server\"} ", baseline)));
  EXPECT_THAT(scrape, HasSubstr(absl::StrCat("bnmlp_memory_limit_bytes ",
                                             int64_t{1} << 30)));
  EXPECT_THAT(scrape, HasSubstr("bnmlp_datasets 0"));
}

TEST(ServerMetricsTest, AnAddressThatCannotBeBoundFailsTheStart) {
  ServerOptions options;
  options.listen_address = "127.0.0.1:0";
  options.metrics_address = "256.0.0.1:1";
  absl::StatusOr<std::unique_ptr<BnmlpServer>> server =
      BnmlpServer::Start(options);
  ASSERT_FALSE(server.ok());
  EXPECT_THAT(server.status().message(), HasSubstr("--metrics_address"));
}

}  // namespace
}  // namespace bnmlp
