// A running bnmlp gRPC server: BnMlpService, grpc.health.v1.Health and
// server reflection on one port, with graceful shutdown. Used by main() and,
// in-process, by the tests, so both exercise the same wiring.
#ifndef BNMLP_SERVER_BNMLP_SERVER_H_
#define BNMLP_SERVER_BNMLP_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/server.h"
#include "server/bnmlp_service.h"
#include "server/dataset_registry.h"
#include "server/model_registry.h"

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
  RegistryLimits limits;
  // The model store: the directory where models (and datasets) are kept on
  // disk and reloaded from at startup. Empty: memory only.
  std::string model_dir;
  // The bytes every uploaded dataset's rows may take together (uploads
  // beyond it get RESOURCE_EXHAUSTED): --max_dataset_bytes.
  int64_t max_dataset_bytes = kDefaultMaxDatasetBytes;
  // FORMAT_BNMLP files (ServiceOptions::native_format); null: UNIMPLEMENTED.
  std::shared_ptr<NativeModelFormat> native_format;
  // How often Train streams per-batch progress within an epoch.
  absl::Duration progress_interval = absl::Milliseconds(500);
};

// INVALID_ARGUMENT naming the flag (--max_models, ...) unless every option
// is in range.
absl::Status ValidateServerOptions(const ServerOptions& options);

class BnmlpServer {
 public:
  // Validates `options`, binds and starts serving; health reports SERVING.
  // UNAVAILABLE if the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<BnmlpServer>> Start(
      const ServerOptions& options);

  BnmlpServer(const BnmlpServer&) = delete;
  BnmlpServer& operator=(const BnmlpServer&) = delete;
  // Shutdown(absl::ZeroDuration()) unless already shut down.
  ~BnmlpServer();

  // The bound port (the chosen one when the address asked for port 0).
  int port() const { return port_; }
  ModelRegistry& registry() { return registry_; }
  DatasetRegistry& datasets() { return *datasets_; }

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
  BnmlpServer(const ServerOptions& options,
              std::shared_ptr<DatasetRegistry> datasets);

  ModelRegistry registry_;
  const std::shared_ptr<DatasetRegistry> datasets_;
  BnMlpServiceImpl service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  bool shut_down_ = false;
};

}  // namespace bnmlp

#endif  // BNMLP_SERVER_BNMLP_SERVER_H_
