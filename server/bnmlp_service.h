// bnmlp.v1.BnMlpService: thin handlers (validate, convert, call the registry
// or the engine, convert back) over the model registry.
//
// Why the synchronous gRPC API for all but Predict: Train is a long
// CPU-bound loop that streams progress. On the sync API it simply runs on
// its handler thread, Write() blocks while the client is slow (natural flow
// control), and cancellation is ServerContext::IsCancelled() polled between
// batches; the other calls are short or rare.
//
// Why the callback API for Predict: it is the hot path of a serving
// replica. On the sync API every call holds a thread from arrival to
// response, so 64 concurrent batch-1 calls meant 64 threads handing calls
// over and waking each other (the kernel took over half the server's CPU,
// and a call merged by the batcher slept until its leader woke it). On the
// callback API a small call is computed on the gRPC thread that received
// it, or queued in the batcher and answered by the leader's thread, holding
// no thread meanwhile; only a large call, which may wait for a compute slot,
// gets a thread of its own (server/call_threads.h). bench/README.md,
// "Predict on the callback API", has the figures.
#ifndef BNMLP_SERVER_BNMLP_SERVICE_H_
#define BNMLP_SERVER_BNMLP_SERVICE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "bnmlp/v1/bnmlp.grpc.pb.h"
#include "server/active_calls.h"
#include "server/call_memory.h"
#include "server/call_threads.h"
#include "server/compute_slots.h"
#include "server/dataset_registry.h"
#include "server/memory_budget.h"
#include "server/metrics.h"
#include "server/model_registry.h"
#include "server/native_model_format.h"
#include "server/predict_batcher.h"
#include "server/request_conversion.h"
#include "server/rpc_call.h"

namespace bnmlp {

struct ServiceOptions {
  // How often Train streams per-batch progress within an epoch (epoch ends
  // are always sent); 0 sends every batch.
  double progress_interval_seconds = 0.5;
  // The largest response the server may send; Predict refuses (with
  // RESOURCE_EXHAUSTED) a request whose outputs would not fit.
  int64_t max_message_bytes = int64_t{256} << 20;
  // How many large Predict computations (those whose products the engine
  // splits over its compute pool) may run at once; the rest wait, asleep,
  // until one finishes, their deadline passes or the client cancels
  // (server/compute_slots.h).
  int max_concurrent_predicts = 1;
  // FORMAT_BNMLP files for ExportModel and ImportModel: the model store's
  // native format. Null: UnimplementedNativeModelFormat().
  std::shared_ptr<NativeModelFormat> native_format;
  // Prometheus metrics (server/metrics.h); null: none are kept.
  std::shared_ptr<ServerMetrics> metrics;
  // The uploaded datasets (UploadDataset, Train's `dataset`). Null: the
  // service keeps its own, in memory, limited to kDefaultMaxDatasetBytes.
  std::shared_ptr<DatasetRegistry> datasets;
  // Accounts of the process's memory budget (--max_memory_bytes;
  // MemoryAccounts): Train reserves its workspaces from `training_memory`,
  // Predict and GetParameters their workspaces and responses from
  // `serving_memory`. Null: no limit.
  std::shared_ptr<MemoryBudget> training_memory;
  std::shared_ptr<MemoryBudget> serving_memory;
  // Where GetParameters leaves its responses' reservations until gRPC has
  // sent them; needs CallMemoryInterceptorFactory on that method. Null: the
  // reservations end with the handler. (Predict's call object holds its
  // own until the call is over.)
  std::shared_ptr<CallMemoryHolds> call_memory;
  // The most Predicts in progress at once; beyond it a Predict gets
  // RESOURCE_EXHAUSTED at once. (On the callback API a call holds no
  // thread, so gRPC's thread limit no longer bounds the requests held; the
  // default matches that limit for the other calls.)
  int max_predict_calls = 256;
  // Dynamic batching: concurrent small Predicts on the same model version
  // merge into one product (server/predict_batcher.h); --batch_max_rows,
  // --batch_max_delay_us.
  PredictBatcherOptions batching;
};

// Thread-safe; every handler may run concurrently with every other. Each
// call logs one line (server/rpc_call.h).
class BnMlpServiceImpl final
    : public v1::BnMlpService::WithCallbackMethod_Predict<
          v1::BnMlpService::Service> {
 public:
  // `registry` is not owned and must outlive the service.
  BnMlpServiceImpl(ModelRegistry* registry, ServiceOptions options);

  grpc::Status CreateModel(grpc::ServerContext* context,
                           const v1::CreateModelRequest* request,
                           v1::ModelInfo* response) override;
  grpc::Status Train(grpc::ServerContext* context,
                     const v1::TrainRequest* request,
                     grpc::ServerWriter<v1::TrainResponse>* writer) override;
  grpc::ServerUnaryReactor* Predict(grpc::CallbackServerContext* context,
                                    const v1::PredictRequest* request,
                                    v1::PredictResponse* response) override;
  grpc::Status GetParameters(grpc::ServerContext* context,
                             const v1::GetParametersRequest* request,
                             v1::GetParametersResponse* response) override;
  grpc::Status ListModels(grpc::ServerContext* context,
                          const v1::ListModelsRequest* request,
                          v1::ListModelsResponse* response) override;
  grpc::Status GetModel(grpc::ServerContext* context,
                        const v1::GetModelRequest* request,
                        v1::ModelInfo* response) override;
  grpc::Status DeleteModel(grpc::ServerContext* context,
                           const v1::DeleteModelRequest* request,
                           v1::DeleteModelResponse* response) override;
  // In server/interchange_service.cc.
  grpc::Status ExportModel(
      grpc::ServerContext* context, const v1::ExportModelRequest* request,
      grpc::ServerWriter<v1::ExportModelResponse>* writer) override;
  grpc::Status ImportModel(grpc::ServerContext* context,
                           grpc::ServerReader<v1::ImportModelRequest>* reader,
                           v1::ImportModelResponse* response) override;

  // In server/dataset_service.cc.
  grpc::Status UploadDataset(
      grpc::ServerContext* context,
      grpc::ServerReader<v1::UploadDatasetRequest>* reader,
      v1::UploadDatasetResponse* response) override;
  grpc::Status ListDatasets(grpc::ServerContext* context,
                            const v1::ListDatasetsRequest* request,
                            v1::ListDatasetsResponse* response) override;
  grpc::Status GetDataset(grpc::ServerContext* context,
                          const v1::GetDatasetRequest* request,
                          v1::DatasetInfo* response) override;
  grpc::Status DeleteDataset(grpc::ServerContext* context,
                             const v1::DeleteDatasetRequest* request,
                             v1::DeleteDatasetResponse* response) override;

  // The handlers running right now (for graceful shutdown).
  const ActiveCalls& active_calls() const { return rpc_.active_calls(); }
  // Admission (auth) and observers (metrics) of every call: configure before
  // the server starts (server/rpc_call.h).
  RpcEnvironment& rpc_environment() { return rpc_; }

  // Shutdown's grace period is over: calls still waiting or computing end
  // with UNAVAILABLE saying the server is shutting down, instead of being
  // cut off by the transport. Thread-safe; idempotent.
  void StopRemainingCalls() { stopping_.store(true); }

 private:
  absl::Status DoCreateModel(const v1::CreateModelRequest& request,
                             v1::ModelInfo* response);
  absl::Status DoTrain(grpc::ServerContext& context,
                       const v1::TrainRequest& request,
                       grpc::ServerWriter<v1::TrainResponse>& writer);
  // Metrics of an epoch end; the train_finished log line and outcome count.
  void RecordEpoch(const std::string& model,
                   const v1::TrainProgress& epoch_end);
  void LogTrainingEnd(const std::string& model, const absl::Status& status,
                      const v1::TrainProgress& last);
  // Predict (server/predict_service.cc).
  struct PredictPlan;
  class PredictCall;
  // Finds the model version, validates the samples, reserves the memory.
  absl::StatusOr<PredictPlan> PlanPredict(const v1::PredictRequest& request);
  // The forward pass of a call not merged with others, into the response's
  // outputs: in one of the compute slots if it uses the compute pool.
  absl::Status RunPredict(const grpc::ServerContextBase& context,
                          const PredictPlan& plan,
                          v1::PredictResponse& response);
  // A compute slot for a large Predict; DEADLINE_EXCEEDED, CANCELLED or
  // UNAVAILABLE (shutdown) if the call ends while it waits.
  absl::StatusOr<ComputeSlots::Slot> AwaitPredictSlot(
      const grpc::ServerContextBase& context);
  // The rest of a computed call's response: classes, version; metrics.
  void FinishPredictResponse(const PredictPlan& plan,
                             absl::string_view model_name,
                             v1::PredictResponse* response);
  // Whether a call should stop computing or waiting: the client cancelled,
  // its deadline passed, or shutdown's grace period is over. Cheap.
  bool CallShouldStop(const grpc::ServerContextBase& context) const;
  // The status of a call that stopped for one of those reasons (UNAVAILABLE,
  // DEADLINE_EXCEEDED or CANCELLED), saying `where` it stopped.
  absl::Status WhyCallStopped(const grpc::ServerContextBase& context,
                              absl::string_view where) const;
  absl::Status DoGetParameters(const grpc::ServerContextBase& context,
                               const v1::GetParametersRequest& request,
                               v1::GetParametersResponse* response);
  // Keeps `memory` (a response's) until the call has ended, when the server
  // supports it (ServiceOptions::call_memory); else it ends here.
  void HoldUntilCallEnds(const grpc::ServerContextBase& context,
                         MemoryBudget::Reservation memory);
  absl::Status DoGetModel(const v1::GetModelRequest& request,
                          v1::ModelInfo* response);
  absl::Status DoDeleteModel(const v1::DeleteModelRequest& request,
                             v1::DeleteModelResponse* response);
  // ExportModel and ImportModel (server/interchange_service.cc).
  absl::Status DoExportModel(
      const v1::ExportModelRequest& request,
      grpc::ServerWriter<v1::ExportModelResponse>& writer);
  absl::StatusOr<ExportedModelFile> ExportOnnxFile(
      const v1::ExportModelRequest& request);
  // The version ExportModel asked for: 0 for the latest, or a retained
  // version (ModelRegistry::GetSnapshot).
  absl::StatusOr<ModelSnapshot> SnapshotToExport(absl::string_view name,
                                                 int64_t version);
  absl::Status DoImportModel(grpc::ServerContext& context,
                             grpc::ServerReader<v1::ImportModelRequest>& reader,
                             v1::ImportModelResponse* response);
  // Refuses an import before its chunks arrive: a bad or taken name, a bad
  // format, a format this server cannot read.
  absl::Status CheckImportHeader(const v1::ImportModelHeader& header) const;

  // UploadDataset and Train's datasets (server/dataset_service.cc).
  absl::Status DoUploadDataset(
      grpc::ServerContext& context,
      grpc::ServerReader<v1::UploadDatasetRequest>& reader,
      v1::UploadDatasetResponse* response);
  // Train's sets, inline or uploaded, validated for `config`; `leases` keeps
  // the uploaded ones alive while the inputs (views) are used.
  absl::StatusOr<TrainingInputs<float>> ResolveTrainingInputs(
      const ModelConfig& config, const v1::TrainRequest& request,
      const TrainRequestViews& views, std::vector<DatasetLease>& leases) const;

  ModelRegistry* const registry_;
  const ServiceOptions options_;
  RpcEnvironment rpc_;
  ComputeSlots predict_slots_;
  PredictBatcher predict_batcher_;
  const std::shared_ptr<NativeModelFormat> native_format_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> predict_calls_{0};  // Predicts admitted, not answered
  const std::shared_ptr<DatasetRegistry> datasets_;
  const std::shared_ptr<MemoryBudget> training_memory_;
  const std::shared_ptr<MemoryBudget> serving_memory_;
  // Last: destroyed first, joining the threads whose calls use the above.
  CallThreads large_predict_threads_;
};

}  // namespace bnmlp

#endif  // BNMLP_SERVER_BNMLP_SERVICE_H_
