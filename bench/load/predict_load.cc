// bnmlp_predict_load: Predict latency (p50/p99) and throughput at several
// numbers of calls in flight, for batch 1 and batch 64 on a 784-256-128-10
// model, next to an empty RPC (grpc.health.v1.Health/Check) as the floor,
// with the CPU each side used. Starts its own bnmlp-server (so the server's
// CPU can be measured apart) unless --server names one.
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "bench/load/closed_loop.h"
#include "bench/load/process_cpu.h"
#include "bench/load/server_launcher.h"
#include "bnmlp/v1/bnmlp.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"

ABSL_FLAG(std::string, server, "",
          "host:port of a running bnmlp-server; empty starts one");
ABSL_FLAG(int, server_pid, 0,
          "With --server: its pid, to report its CPU use (same machine)");
ABSL_FLAG(std::string, server_binary, BNMLP_SERVER_PATH,
          "The bnmlp-server to start when --server is empty");
ABSL_FLAG(std::vector<std::string>, server_flags, {},
          "Extra flags for the started server, comma-separated");
ABSL_FLAG(std::string, server_log, "/dev/null",
          "Where the started server's log (stderr) goes");
ABSL_FLAG(std::vector<std::string>, in_flight,
          std::vector<std::string>({"1", "8", "64"}),
          "Numbers of calls kept in flight");
ABSL_FLAG(std::vector<std::string>, batches,
          std::vector<std::string>({"1", "64"}),
          "Predict batch sizes (samples per call)");
ABSL_FLAG(double, seconds, 3, "Measured seconds per configuration");
ABSL_FLAG(bool, create_model, true,
          "Create the model load-784 (784-256-128-10, seed 1) first; false "
          "for a read-only replica, which serves the one its writer made");
ABSL_FLAG(double, warmup_seconds, 0.5, "Unmeasured seconds before each");
ABSL_FLAG(int, connections, 1,
          "Client connections (HTTP/2) the calls in flight are spread over, "
          "as from that many clients");

namespace bnmlp::bench {
namespace {

constexpr char kModel[] = "load-784";
const std::vector<int64_t> kLayerSizes = {784, 256, 128, 10};

struct Row {
  std::string rpc;
  int batch = 0;  // 0: no batch (the floor)
  int in_flight = 0;
  LoadResult result;
  double server_cores = -1;  // CPU seconds per wall second; -1: unknown
  double generator_cores = 0;
};

absl::StatusOr<std::vector<int>> ParseInts(
    const std::vector<std::string>& texts, absl::string_view flag) {
  std::vector<int> values;
  for (const std::string& text : texts) {
    int value = 0;
    if (!absl::SimpleAtoi(text, &value) || value < 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--", flag, ": expected positive integers, got '", text, "'"));
    }
    values.push_back(value);
  }
  return values;
}

absl::Status CreateModel(v1::BnMlpService::Stub& stub) {
  {
    grpc::ClientContext context;
    v1::DeleteModelRequest request;
    request.set_name(kModel);
    v1::DeleteModelResponse response;
    stub.DeleteModel(&context, request, &response);  // NOT_FOUND is fine
  }
  grpc::ClientContext context;
  v1::CreateModelRequest request;
  request.set_name(kModel);
  request.mutable_layer_sizes()->Add(kLayerSizes.begin(), kLayerSizes.end());
  request.set_seed(1);
  v1::ModelInfo info;
  const grpc::Status status = stub.CreateModel(&context, request, &info);
  if (!status.ok()) {
    return absl::UnavailableError(
        absl::StrCat("CreateModel: ", status.error_message()));
  }
  return absl::OkStatus();
}

v1::PredictRequest MakePredictRequest(int batch) {
  std::mt19937 rng(batch);
  std::uniform_real_distribution<float> pixel(0.0f, 1.0f);
  v1::PredictRequest request;
  request.set_name(kModel);
  request.mutable_x()->add_shape(batch);
  request.mutable_x()->add_shape(kLayerSizes.front());
  for (int64_t i = 0; i < batch * kLayerSizes.front(); ++i) {
    request.mutable_x()->add_values(pixel(rng));
  }
  return request;
}

// Measures one configuration, sampling both processes' CPU time at the
// edges of the measured window.
Row Measure(const std::string& rpc, int batch, int in_flight,
            const IssueCall& issue, pid_t server_pid) {
  absl::FPrintF(stderr, "measuring %s%s, %d in flight, %.1f s...\n", rpc,
                batch > 0 ? absl::StrCat(" batch ", batch) : "", in_flight,
                absl::GetFlag(FLAGS_seconds));
  double server_start = 0, server_end = 0, self_start = 0, self_end = 0;
  auto sample = [server_pid](double& server, double& self) {
    if (server_pid > 0) server = ProcessCpuSeconds(server_pid).value_or(-1);
    self = ProcessCpuSeconds(getpid()).value_or(0);
  };
  Row row;
  row.rpc = rpc;
  row.batch = batch;
  row.in_flight = in_flight;
  row.result = RunClosedLoop(
      in_flight, absl::Seconds(absl::GetFlag(FLAGS_warmup_seconds)),
      absl::Seconds(absl::GetFlag(FLAGS_seconds)), issue,
      [&] { sample(server_start, self_start); },
      [&] { sample(server_end, self_end); });
  const double wall = row.result.seconds;
  if (server_pid > 0 && server_start >= 0 && server_end >= 0) {
    row.server_cores = (server_end - server_start) / wall;
  }
  row.generator_cores = (self_end - self_start) / wall;
  return row;
}

void PrintRow(const Row& row) {
  absl::PrintF(
      "| %-20s | %5s | %9d | %9.0f | %8.0f | %8.0f | %10s | %13.2f |", row.rpc,
      row.batch > 0 ? absl::StrCat(row.batch) : "-", row.in_flight,
      row.result.Throughput(), row.result.Percentile(50),
      row.result.Percentile(99),
      row.server_cores < 0 ? "n/a" : absl::StrFormat("%.2f", row.server_cores),
      row.generator_cores);
  if (row.result.failed > 0) {
    absl::PrintF(" %d failed: %s", row.result.failed, row.result.first_error);
  }
  absl::PrintF("\n");
  std::fflush(stdout);
}

absl::Status Run() {
  absl::StatusOr<std::vector<int>> in_flights =
      ParseInts(absl::GetFlag(FLAGS_in_flight), "in_flight");
  if (!in_flights.ok()) return in_flights.status();
  absl::StatusOr<std::vector<int>> batches =
      ParseInts(absl::GetFlag(FLAGS_batches), "batches");
  if (!batches.ok()) return batches.status();

  if (!(absl::GetFlag(FLAGS_seconds) > 0) ||
      !(absl::GetFlag(FLAGS_warmup_seconds) >= 0)) {
    return absl::InvalidArgumentError(
        "--seconds must be > 0 and --warmup_seconds >= 0");
  }
  std::unique_ptr<LaunchedServer> launched;
  std::string address = absl::GetFlag(FLAGS_server);
  pid_t server_pid = absl::GetFlag(FLAGS_server_pid);
  if (address.empty()) {
    absl::StatusOr<std::unique_ptr<LaunchedServer>> started =
        LaunchedServer::Start(absl::GetFlag(FLAGS_server_binary),
                              absl::GetFlag(FLAGS_server_flags),
                              absl::GetFlag(FLAGS_server_log));
    if (!started.ok()) return started.status();
    launched = *std::move(started);
    address = launched->address();
    server_pid = launched->pid();
  }
  const int connections = absl::GetFlag(FLAGS_connections);
  if (connections < 1) {
    return absl::InvalidArgumentError("--connections must be at least 1");
  }
  // One channel per connection; a local subchannel pool each, or gRPC
  // would share one connection between channels to the same address.
  std::vector<std::unique_ptr<v1::BnMlpService::Stub>> stubs;
  std::vector<std::unique_ptr<grpc::health::v1::Health::Stub>> healths;
  for (int c = 0; c < connections; ++c) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    auto channel = grpc::CreateCustomChannel(
        address, grpc::InsecureChannelCredentials(), args);
    stubs.push_back(v1::BnMlpService::NewStub(channel));
    healths.push_back(grpc::health::v1::Health::NewStub(channel));
  }
  // Slot s's calls go over connection s % connections.
  const auto stub = [&](int slot) { return stubs[slot % connections].get(); };
  const auto health = [&](int slot) {
    return healths[slot % connections].get();
  };
  if (absl::GetFlag(FLAGS_create_model)) {
    if (absl::Status status = CreateModel(*stubs.front()); !status.ok()) {
      return status;
    }
  }

  absl::PrintF("server %s (pid %s), model %s\n\n", address,
               server_pid > 0 ? absl::StrCat(server_pid) : "unknown",
               "784-256-128-10");
  absl::PrintF(
      "| rpc                  | batch | in flight |   calls/s |  p50 us  |  "
      "p99 us  | server CPU | generator CPU |\n"
      "|----------------------|-------|-----------|-----------|----------|---"
      "-------|------------|---------------|\n");
  std::vector<Row> rows;
  for (int in_flight : *in_flights) {
    std::vector<grpc::health::v1::HealthCheckResponse> health_responses(
        static_cast<size_t>(in_flight));
    const grpc::health::v1::HealthCheckRequest health_request;
    rows.push_back(Measure(
        "Health/Check (floor)", 0, in_flight,
        [&](int slot, grpc::ClientContext* context,
            std::function<void(grpc::Status)> done) {
          health(slot)->async()->Check(
              context, &health_request,
              &health_responses[static_cast<size_t>(slot)], std::move(done));
        },
        server_pid));
    PrintRow(rows.back());
    for (int batch : *batches) {
      const v1::PredictRequest request = MakePredictRequest(batch);
      std::vector<v1::PredictResponse> responses(
          static_cast<size_t>(in_flight));
      rows.push_back(Measure(
          "Predict", batch, in_flight,
          [&](int slot, grpc::ClientContext* context,
              std::function<void(grpc::Status)> done) {
            stub(slot)->async()->Predict(context, &request,
                                         &responses[static_cast<size_t>(slot)],
                                         std::move(done));
          },
          server_pid));
      PrintRow(rows.back());
    }
  }
  absl::PrintF("\nPredict p50 / floor p50 at the same concurrency:\n");
  const Row* floor = nullptr;
  for (const Row& row : rows) {
    if (row.batch == 0) {
      floor = &row;
    } else if (floor != nullptr && floor->result.Percentile(50) > 0) {
      absl::PrintF("  batch %d, %d in flight: %.2fx\n", row.batch,
                   row.in_flight,
                   row.result.Percentile(50) / floor->result.Percentile(50));
    }
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace bnmlp::bench

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Measures bnmlp-server's Predict latency and throughput against an "
      "empty RPC.\nUsage: bnmlp_predict_load [--server=host:port] "
      "[--in_flight=1,8,64] [--batches=1,64] [--seconds=3]");
  absl::FlagsUsageConfig usage;  // --help lists this file's flags
  usage.contains_help_flags = [](absl::string_view file) {
    return absl::EndsWith(file, "bench/load/predict_load.cc");
  };
  usage.contains_helpshort_flags = usage.contains_help_flags;
  absl::SetFlagsUsageConfig(usage);
  absl::ParseCommandLine(argc, argv);
  if (absl::Status status = bnmlp::bench::Run(); !status.ok()) {
    absl::FPrintF(stderr, "bnmlp_predict_load: %s\n", status.message());
    return 1;
  }
  return 0;
}
