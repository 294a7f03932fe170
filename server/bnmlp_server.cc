#include "server/bnmlp_server.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <limits>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/model_config.h"
#include "grpc/grpc.h"
#include "grpc/health/v1/health.pb.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/resource_quota.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "server/event_log.h"
#include "server/process_limits.h"
#include "server/store/dataset_store.h"

namespace bnmlp {
namespace {

// Reflection describes services from the generated descriptor pool. The
// default health service is implemented inside gRPC without C++ protobuf
// descriptors, so the pool learns grpc.health.v1 only if health.pb.cc is
// linked in: this reference keeps the linker from dropping it.
void LinkHealthDescriptors() {
  (void)grpc::health::v1::HealthCheckRequest::descriptor();
}

// After the grace period, how long calls get to notice that the server is
// stopping and return their own status.
constexpr absl::Duration kStopRemainingCallsWait = absl::Seconds(1);
// How long returned handlers' statuses get to reach their clients before the
// remaining calls (idle streams) are cancelled.
constexpr absl::Duration kStatusFlushTime = absl::Milliseconds(200);

// gRPC threads (pollers and calls) at most (and, by default, Predicts in
// progress, which hold no thread: ServerOptions::max_predict_calls), and
// calls at once on one client connection: what a burst of calls may hold
// beyond --max_memory_bytes is their request messages and gRPC's buffers,
// at most this many of each.
// 256 calls at once is far beyond what the compute threads serve (Predict
// and Train queue for them anyway); 100 streams per connection is HTTP/2's
// recommended least and what Go and Envoy use.
constexpr int kMaxServerThreads = 256;
// The budget's share for what the process holds beyond what requests
// reserve: measured 150-270 MB of RSS beyond the reservations under the
// memory e2e test (tests/e2e/memory). At most a quarter of the budget.
constexpr int64_t kServerBaselineBytes = int64_t{256} << 20;
constexpr int kMaxStreamsPerConnection = 100;

absl::Status CheckRange(absl::string_view flag, int64_t value, int64_t low,
                        int64_t high) {
  if (value >= low && value <= high) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "--", flag, ": expected ", low, " to ", high, ", got ", value));
}

RegistryLimits WithMemory(RegistryLimits limits,
                          std::shared_ptr<MemoryBudget> memory) {
  limits.memory = std::move(memory);
  return limits;
}

}  // namespace

absl::Status ValidateServerOptions(const ServerOptions& options) {
  if (options.listen_address.empty()) {
    return absl::InvalidArgumentError(
        "--listen_address: expected host:port, e.g. 0.0.0.0:50051, got an "
        "empty string");
  }
  for (const absl::Status& status : {
           CheckRange("max_message_bytes", options.max_message_bytes, 1024,
                      std::numeric_limits<int>::max()),
           CheckRange("worker_threads", options.worker_threads, 1, 1024),
           CheckRange("max_concurrent_predicts",
                      options.max_concurrent_predicts, 1, 1024),
           // Beyond one chunk of Predict's, a merge gains nothing.
           CheckRange("batch_max_rows", options.batching.max_rows, 0,
                      kDefaultMaxChunkRows),
           CheckRange("batch_max_delay_us",
                      static_cast<int64_t>(options.batching.max_delay.count()),
                      0, 1000000),
           CheckRange("max_models", options.limits.max_models, 1, 1000000),
           CheckRange("max_dataset_bytes", options.max_dataset_bytes, 0,
                      std::numeric_limits<int64_t>::max()),
           CheckRange("max_memory_bytes", options.max_memory_bytes, 0,
                      std::numeric_limits<int64_t>::max()),
           // One tensor of the largest model must fit a protobuf field.
           CheckRange("max_parameters", options.limits.max_parameters, 1,
                      std::min<int64_t>(kMaxParameterCount,
                                        std::numeric_limits<int>::max())),
       }) {
    if (!status.ok()) return status;
  }
  if (options.max_connection_idle < absl::ZeroDuration() ||
      options.max_connection_idle > absl::Hours(24)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--max_connection_idle: expected 0 (never) to 24h, got ",
                     absl::FormatDuration(options.max_connection_idle)));
  }
  if (!options.model_dir.empty()) {
    if (absl::Status status =
            CheckRange("keep_versions", options.keep_versions, 1, 1000000);
        !status.ok()) {
      return status;
    }
  }
  if (options.read_only && options.model_dir.empty()) {
    return absl::InvalidArgumentError(
        "--read_only: needs --model_dir (the store this replica serves)");
  }
  if (options.read_only && options.poll_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--poll_seconds: expected > 0, got ",
                     absl::FormatDuration(options.poll_interval)));
  }
  if (options.progress_interval < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--progress_interval: expected >= 0, got ",
                     absl::FormatDuration(options.progress_interval)));
  }
  return absl::OkStatus();
}

BnmlpServer::BnmlpServer(const ServerOptions& options,
                         std::unique_ptr<ModelStore> store,
                         MemoryAccounts memory,
                         std::shared_ptr<DatasetRegistry> datasets)
    : store_(std::move(store)),
      memory_(std::move(memory)),
      call_memory_(std::make_shared<CallMemoryHolds>()),
      registry_(WithMemory(options.limits, memory_.models), store_.get(),
                options.read_only),
      datasets_(std::move(datasets)),
      metrics_(options.metrics_address.empty()
                   ? nullptr
                   : std::make_shared<ServerMetrics>(
                         [this] { return ReadGauges(); })),
      service_(&registry_,
               ServiceOptions{
                   absl::ToDoubleSeconds(options.progress_interval),
                   options.max_message_bytes, options.max_concurrent_predicts,
                   options.native_format != nullptr
                       ? options.native_format
                       : StoreNativeModelFormat(&registry_),
                   metrics_, datasets_, memory_.training, memory_.serving,
                   call_memory_, options.max_predict_calls, options.batching}) {
}

ServerGauges BnmlpServer::ReadGauges() const {
  ServerGauges gauges;
  gauges.models = static_cast<int64_t>(registry_.List().size());
  gauges.datasets = static_cast<int64_t>(datasets_->List().size());
  gauges.memory_limit_bytes = memory_.process->limit();
  gauges.memory_bytes_by_kind = {{"server", memory_.server->used()},
                                 {"models", memory_.models->used()},
                                 {"datasets", datasets_->budget().used()},
                                 {"training", memory_.training->used()},
                                 {"serving", memory_.serving->used()}};
  return gauges;
}

int BnmlpServer::metrics_port() const {
  if (metrics_exposer_ == nullptr) return 0;
  const std::vector<int> ports = metrics_exposer_->GetListeningPorts();
  return ports.empty() ? 0 : ports.front();
}

void BnmlpServer::PollStore(absl::Duration interval) {
  poller_ = std::thread([this, interval] {
    std::unique_lock<std::mutex> lock(poll_mu_);
    while (!poll_wakeup_.wait_for(lock, absl::ToChronoNanoseconds(interval),
                                  [this] { return stop_polling_; })) {
      lock.unlock();
      registry_.SyncFromStore();
      lock.lock();
    }
  });
}

void BnmlpServer::StopPolling() {
  {
    std::lock_guard<std::mutex> lock(poll_mu_);
    stop_polling_ = true;
  }
  poll_wakeup_.notify_all();
  if (poller_.joinable()) poller_.join();
}

namespace {

// The datasets, loaded from <model_dir>/datasets when there is a store.
absl::StatusOr<std::shared_ptr<DatasetRegistry>> OpenDatasets(
    const ServerOptions& options, std::shared_ptr<MemoryBudget> memory) {
  std::unique_ptr<DatasetStore> store;
  // A read-only replica neither trains nor uploads: the writer's datasets
  // are not its business (and opening them would write to the store).
  if (!options.model_dir.empty() && !options.read_only) {
    absl::StatusOr<std::unique_ptr<DatasetStore>> opened =
        DatasetStore::Open(options.model_dir);
    if (!opened.ok()) {
      return absl::Status(
          opened.status().code(),
          absl::StrCat("--model_dir: ", opened.status().message()));
    }
    store = *std::move(opened);
  }
  auto datasets = std::make_shared<DatasetRegistry>(
      options.max_dataset_bytes, std::move(store), std::move(memory));
  if (datasets->store() != nullptr) {
    const int loaded = datasets->LoadFromStore();
    LogEvent(absl::StrCat("event=datasets_loaded count=", loaded,
                          " bytes=", datasets->budget().used(),
                          " directory=", datasets->store()->directory()));
  }
  return datasets;
}

}  // namespace

absl::StatusOr<std::unique_ptr<BnmlpServer>> BnmlpServer::Start(
    const ServerOptions& options) {
  if (absl::Status status = ValidateServerOptions(options); !status.ok()) {
    return status;
  }
  LinkHealthDescriptors();
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  std::unique_ptr<ModelStore> store;
  if (!options.model_dir.empty()) {
    ModelStoreOptions store_options;
    store_options.directory = options.model_dir;
    store_options.read_only = options.read_only;
    store_options.keep_versions = options.keep_versions;
    store_options.max_parameters = options.limits.max_parameters;
    absl::StatusOr<std::unique_ptr<ModelStore>> opened =
        ModelStore::Open(store_options);
    if (!opened.ok()) return opened.status();
    store = *std::move(opened);
  }
  MemoryAccounts memory = MemoryAccounts::Create(options.max_memory_bytes > 0
                                                     ? options.max_memory_bytes
                                                     : DefaultMaxMemoryBytes());
  // What the process holds whatever the requests (code, OpenBLAS's and
  // gRPC's buffers, threads, the allocator's slack) comes first.
  absl::StatusOr<MemoryBudget::Reservation> baseline = memory.server->Reserve(
      std::min(kServerBaselineBytes, memory.process->limit() / 4),
      "the server itself");
  if (!baseline.ok()) return baseline.status();
  absl::StatusOr<std::shared_ptr<DatasetRegistry>> datasets =
      OpenDatasets(options, memory.process);
  if (!datasets.ok()) return datasets.status();
  std::unique_ptr<BnmlpServer> server(new BnmlpServer(
      options, std::move(store), std::move(memory), *std::move(datasets)));
  server->baseline_ = *std::move(baseline);
  server->service_.rpc_environment().SetAdmission(options.admission);
  if (server->metrics_ != nullptr) {
    absl::StatusOr<std::unique_ptr<prometheus::Exposer>> exposer =
        ServeMetrics(options.metrics_address, *server->metrics_);
    if (!exposer.ok()) {
      server->shut_down_ = true;  // nothing was started
      return exposer.status();
    }
    server->metrics_exposer_ = *std::move(exposer);
  }
  if (server->store_ != nullptr) {
    const int loaded = server->registry_.LoadFromStore();
    LogEvent(absl::StrCat("event=store_opened dir=", options.model_dir,
                          " models=", loaded,
                          " read_only=", options.read_only ? "true" : "false",
                          " keep_versions=", options.keep_versions));
    if (options.read_only) server->PollStore(options.poll_interval);
  }
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen_address,
                           options.credentials != nullptr
                               ? options.credentials
                               : grpc::InsecureServerCredentials(),
                           &server->port_);
  // gRPC sets SO_REUSEPORT by default: a second server on a taken port
  // would start "fine" and silently share its traffic. Fail instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  if (options.max_connection_idle > absl::ZeroDuration()) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS,
                               static_cast<int>(absl::ToInt64Milliseconds(
                                   options.max_connection_idle)));
  }
  // Concurrent calls are bounded: each holds a thread and its messages.
  // Past kMaxServerThreads gRPC refuses a call with RESOURCE_EXHAUSTED
  // ("Server Threadpool Exhausted") instead of starting another thread.
  grpc::ResourceQuota quota("bnmlp");
  quota.SetMaxThreads(kMaxServerThreads);
  builder.SetResourceQuota(quota);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             kMaxStreamsPerConnection);
  // GetParameters' responses stay reserved until sent (a Predict's call
  // object holds its own until then).
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      interceptors;
  interceptors.push_back(CallMemoryInterceptorFactory(
      server->call_memory_,
      {absl::StrCat("/", v1::BnMlpService::service_full_name(),
                    "/GetParameters")}));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  builder.RegisterService(&server->service_);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.SetMaxSendMessageSize(options.max_message_bytes);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::NUM_CQS,
                              1);
  // One poller at least, at most worker_threads idle ones. A thread that
  // takes a call is replaced only when fewer than MIN_POLLERS remain, so
  // MIN_POLLERS must stay below MAX_POLLERS, or every call would start (and
  // then end) a thread.
  builder.SetSyncServerOption(
      grpc::ServerBuilder::SyncServerOption::MIN_POLLERS, 1);
  builder.SetSyncServerOption(
      grpc::ServerBuilder::SyncServerOption::MAX_POLLERS,
      std::max(2, options.worker_threads));
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    server->shut_down_ = true;
    server->StopPolling();
    return absl::UnavailableError(absl::StrCat(
        "--listen_address: cannot listen on ", options.listen_address,
        " (address in use, or not a valid host:port?)"));
  }
  // Probes may name the whole server ("") or the service (Kubernetes' gRPC
  // probes and Envoy are usually configured with the service's name).
  server->server_->GetHealthCheckService()->SetServingStatus(
      v1::BnMlpService::service_full_name(), true);
  return server;
}

BnmlpServer::~BnmlpServer() {
  if (!shut_down_) Shutdown(absl::ZeroDuration());
  StopPolling();
}

void BnmlpServer::Shutdown(absl::Duration grace) {
  if (shut_down_) return;
  shut_down_ = true;
  StopPolling();
  if (grpc::HealthCheckServiceInterface* health =
          server_->GetHealthCheckService()) {
    health->Shutdown();  // NOT_SERVING for every service, from now on
  }
  const int cancelled = registry_.CancelAllTrainings();
  LogEvent(absl::StrCat(
      "event=shutdown grace_seconds=", absl::ToDoubleSeconds(grace),
      " cancelled_trainings=", cancelled));
  const absl::Time deadline = absl::Now() + grace;
  // grpc::Server::Shutdown refuses new calls at once, but returns only when
  // every call has ended or the deadline passed: a health Watch stream or a
  // reflection stream would hold the process for the whole grace period
  // (and past `docker stop`'s patience). So it runs on a helper thread
  // while this one waits for our handlers to finish, then cuts what remains
  // short.
  std::atomic<bool> stopped{false};
  // gRPC's own deadline comes later than ours: past it, gRPC would cut the
  // calls off itself before they could say why.
  const absl::Time grpc_deadline =
      deadline + kStopRemainingCallsWait + kStatusFlushTime + absl::Seconds(1);
  std::thread stopper([this, grpc_deadline, &stopped] {
    server_->Shutdown(absl::ToChronoTime(grpc_deadline));
    stopped = true;
  });
  bool drained = service_.active_calls().WaitUntilIdle(deadline);
  if (!drained) {
    // Calls still computing or waiting end with UNAVAILABLE "the server is
    // shutting down" at their next check, rather than being cut off.
    service_.StopRemainingCalls();
    drained = service_.active_calls().WaitUntilIdle(absl::Now() +
                                                    kStopRemainingCallsWait);
    LogEvent(absl::StrCat("event=shutdown_deadline_passed remaining_calls=",
                          service_.active_calls().count()));
  }
  // A handler that has returned may not have sent its status yet; cancelling
  // now would replace it with the transport's "Cancelling all calls". Give
  // the final statuses a moment to leave.
  const absl::Time flush_until = absl::Now() + kStatusFlushTime;
  while (!stopped && absl::Now() < flush_until) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  while (!stopped) {
    grpc_server_cancel_all_calls(server_->c_server());
    absl::SleepFor(absl::Milliseconds(10));
  }
  stopper.join();
  server_->Wait();
}

}  // namespace bnmlp
