// A running bnmlp gRPC server: BnMlpService, grpc.health.v1.Health and
// server reflection on one port, with graceful shutdown. Used by main() and,
// in-process, by the tests, so both exercise the same wiring.
#ifndef BNMLP_SERVER_BNMLP_SERVER_H_
#define BNMLP_SERVER_BNMLP_SERVER_H_

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "server/bnmlp_service.h"
#include "server/call_memory.h"
#include "server/dataset_registry.h"
#include "server/memory_budget.h"
#include "server/model_registry.h"
#include "server/predict_batcher.h"
#include "server/store/model_store.h"

namespace bnmlp {

struct ServerOptions {
  // host:port; port 0 picks a free port (see BnmlpServer::port()).
  std::string listen_address = "0.0.0.0:50051";
  // Largest request or response message; bigger ones get RESOURCE_EXHAUSTED
  // from gRPC. 256 MiB fits a 60,000 x 784 float training set.
  int max_message_bytes = 256 << 20;
  // Most gRPC threads kept idle, polling for calls (2 at least). A call runs
  // on the thread that received it, and gRPC starts another poller while
  // calls are in flight, so concurrent calls are never refused.
  int worker_threads = 2;
  // How many large Predict computations run at once; the rest queue
  // (ServiceOptions::max_concurrent_predicts).
  int max_concurrent_predicts = 1;
  // Predicts in progress at most (ServiceOptions::max_predict_calls).
  int max_predict_calls = ServiceOptions{}.max_predict_calls;
  // Dynamic batching of small Predicts (ServiceOptions::batching):
  // max_rows 0 to kDefaultMaxChunkRows, max_delay 0 to 1 s.
  PredictBatcherOptions batching;
  RegistryLimits limits;
  // The model store: the directory where models (and datasets) are kept on
  // disk and reloaded from at startup. Empty: memory only.
  std::string model_dir;
  // Versions kept on disk per model (--keep_versions).
  int keep_versions = 3;
  // A serving replica of model_dir (--read_only): no lock, every write
  // refused, the store polled every poll_interval for new versions and
  // deletions.
  bool read_only = false;
  absl::Duration poll_interval = absl::Seconds(2);
  // The bytes every uploaded dataset's rows may take together (uploads
  // beyond it get RESOURCE_EXHAUSTED): --max_dataset_bytes.
  int64_t max_dataset_bytes = kDefaultMaxDatasetBytes;
  // What every request may make the process allocate, together: models,
  // snapshots, datasets, messages, Train and Predict workspaces
  // (--max_memory_bytes; 0: DefaultMaxMemoryBytes(), most of the machine's
  // or the container's memory).
  int64_t max_memory_bytes = 0;
  // FORMAT_BNMLP files (ServiceOptions::native_format); null: UNIMPLEMENTED.
  std::shared_ptr<NativeModelFormat> native_format;
  // How often Train streams per-batch progress within an epoch.
  absl::Duration progress_interval = absl::Milliseconds(500);
  // A client connection with no call for this long is closed (GOAWAY; the
  // client reconnects when it next calls), so idle clients cannot hold the
  // process's file descriptors. Zero: never.
  absl::Duration max_connection_idle = absl::Minutes(5);
  // host:port for Prometheus's /metrics over HTTP (port 0 picks one, see
  // BnmlpServer::metrics_port()). Empty: no metrics endpoint.
  std::string metrics_address;
  // Transport security of the port (server/server_security.h); null:
  // plaintext.
  std::shared_ptr<grpc::ServerCredentials> credentials;
  // Who may make which BnMlpService call (server/token_auth.h); null: every
  // call is admitted. Health and reflection are always open.
  std::shared_ptr<const RpcAdmission> admission;
};

// INVALID_ARGUMENT naming the flag (--max_models, ...) unless every option
// is in range.
absl::Status ValidateServerOptions(const ServerOptions& options);

class BnmlpServer {
 public:
  // Validates `options`, opens the model store (if any) and loads its
  // models, binds and starts serving; health reports SERVING. UNAVAILABLE
  // if the address cannot be bound; FAILED_PRECONDITION naming the
  // directory if the store cannot be opened (or another writer holds it).
  static absl::StatusOr<std::unique_ptr<BnmlpServer>> Start(
      const ServerOptions& options);

  BnmlpServer(const BnmlpServer&) = delete;
  BnmlpServer& operator=(const BnmlpServer&) = delete;
  // Shutdown(absl::ZeroDuration()) unless already shut down.
  ~BnmlpServer();

  // The bound port (the chosen one when the address asked for port 0).
  int port() const { return port_; }
  // The bound metrics port; 0 without --metrics_address.
  int metrics_port() const;
  ModelRegistry& registry() { return registry_; }
  // Null without --model_dir.
  ModelStore* store() { return store_.get(); }
  DatasetRegistry& datasets() { return *datasets_; }
  // The process's budget (--max_memory_bytes).
  const MemoryBudget& memory() const { return *memory_.process; }

  // Graceful shutdown: health turns NOT_SERVING, running trainings are
  // cancelled (each model keeps its last published version; the Train call
  // ends UNAVAILABLE saying the server is shutting down and naming that
  // version), no new calls are accepted, and in-flight calls get up to
  // `grace` to finish; then those still waiting or computing end
  // UNAVAILABLE the same way. Returns soon after the last BnMlpService call
  // has finished: idle client connections and health/reflection streams do
  // not hold it up. A call arriving in the same instant as the shutdown may
  // be refused by the transport rather than served. Call once, from one
  // thread.
  void Shutdown(absl::Duration grace);

 private:
  BnmlpServer(const ServerOptions& options, std::unique_ptr<ModelStore> store,
              MemoryAccounts memory, std::shared_ptr<DatasetRegistry> datasets);
  // What a metrics scrape reads (bnmlp_models, bnmlp_memory_bytes, ...).
  ServerGauges ReadGauges() const;
  // Read-only replicas: follows the store until Shutdown.
  void PollStore(absl::Duration interval);
  void StopPolling();

  // Declared before the registry, which writes through it: destroyed after.
  std::unique_ptr<ModelStore> store_;
  const MemoryAccounts memory_;
  // The server's own share of the budget (kServerBaselineBytes).
  MemoryBudget::Reservation baseline_;
  const std::shared_ptr<CallMemoryHolds> call_memory_;
  ModelRegistry registry_;
  const std::shared_ptr<DatasetRegistry> datasets_;
  std::shared_ptr<ServerMetrics> metrics_;  // null without metrics_address
  BnMlpServiceImpl service_;
  std::unique_ptr<prometheus::Exposer> metrics_exposer_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  bool shut_down_ = false;
  std::thread poller_;
  std::mutex poll_mu_;  // held only to read or set stop_polling_
  std::condition_variable poll_wakeup_;
  bool stop_polling_ = false;  // guarded by poll_mu_
};

}  // namespace bnmlp

#endif  // BNMLP_SERVER_BNMLP_SERVER_H_
