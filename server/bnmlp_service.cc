#include "server/bnmlp_service.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "common/status_macros.h"
#include "core/inference_model.h"
#include "core/predict.h"
#include "core/trainer.h"
#include "server/event_log.h"
#include "server/progress_sender.h"
#include "server/request_conversion.h"
#include "server/response_conversion.h"
#include "server/rpc_call.h"
#include "server/tensor_views.h"
#include "server/training_session.h"

namespace bnmlp {
namespace {

constexpr char kShuttingDown[] = "the server is shutting down";

// How long a Train's last events may wait for its client to read them:
// after a finished run (the summary matters), and after a cancelled or
// failed one (DeleteModel and shutdown must free the call within a second;
// the status reaches the client in the trailers either way, and a client
// that reads takes its last events in well under this on any sane link).
constexpr absl::Duration kFinalEventsPatience = absl::Seconds(10);
constexpr absl::Duration kStoppedRunPatience = absl::Milliseconds(250);

// The most a gRPC thread's Predict workspace keeps between calls: 512
// samples of models up to 1,024 units wide stay allocation-free.
constexpr int64_t kKeptWorkspaceBytes = int64_t{4} << 20;

// The values GetParameters sends, in bytes: every parameter and the running
// statistics (mean and variance of every hidden unit).
int64_t ParametersResponseBytes(const ModelConfig& config) {
  int64_t values = CountParameters(config.layer_sizes, config.normalization);
  for (size_t l = 1; l + 1 < config.layer_sizes.size(); ++l) {
    values += 2 * config.layer_sizes[l];
  }
  return values * static_cast<int64_t>(sizeof(float));
}

std::shared_ptr<MemoryBudget> OrUnlimited(
    std::shared_ptr<MemoryBudget> budget) {
  if (budget != nullptr) return budget;
  return MemoryBudget::Create(std::numeric_limits<int64_t>::max(),
                              "--max_memory_bytes");
}

}  // namespace

BnMlpServiceImpl::BnMlpServiceImpl(ModelRegistry* registry,
                                   ServiceOptions options)
    : registry_(registry),
      options_(options),
      predict_slots_(options.max_concurrent_predicts),
      predict_batcher_(options.batching),
      native_format_(options.native_format != nullptr
                         ? options.native_format
                         : UnimplementedNativeModelFormat()),
      datasets_(options.datasets != nullptr
                    ? options.datasets
                    : std::make_shared<DatasetRegistry>(kDefaultMaxDatasetBytes,
                                                        nullptr)),
      training_memory_(OrUnlimited(options.training_memory)),
      serving_memory_(OrUnlimited(options.serving_memory)) {
  if (options_.metrics != nullptr) rpc_.AddObserver(options_.metrics);
}

grpc::Status BnMlpServiceImpl::CreateModel(
    grpc::ServerContext* context, const v1::CreateModelRequest* request,
    v1::ModelInfo* response) {
  return ServeCall(rpc_, *context, "CreateModel", request->name(),
                   [&] { return DoCreateModel(*request, response); });
}

absl::Status BnMlpServiceImpl::DoCreateModel(
    const v1::CreateModelRequest& request, v1::ModelInfo* response) {
  BNMLP_ASSIGN_OR_RETURN(ModelConfig config, ModelConfigFromProto(request));
  BNMLP_ASSIGN_OR_RETURN(ModelStatus created,
                         registry_->Create(request.name(), config));
  ModelStatusToProto(created, response);
  return absl::OkStatus();
}

grpc::Status BnMlpServiceImpl::Train(
    grpc::ServerContext* context, const v1::TrainRequest* request,
    grpc::ServerWriter<v1::TrainResponse>* writer) {
  return ServeCall(rpc_, *context, "Train", request->name(),
                   [&] { return DoTrain(*context, *request, *writer); });
}

absl::Status BnMlpServiceImpl::DoTrain(
    grpc::ServerContext& context, const v1::TrainRequest& request,
    grpc::ServerWriter<v1::TrainResponse>& writer) {
  BNMLP_ASSIGN_OR_RETURN(ModelSnapshot snapshot,
                         registry_->GetSnapshot(request.name()));
  BNMLP_ASSIGN_OR_RETURN(
      TrainRequestViews views,
      TrainRequestFromProto(request, options_.progress_interval_seconds));
  // Validated once, before the model is claimed, so a rejected request
  // leaves the model's state as it was. Uploaded datasets stay alive until
  // the call ends (`leases`), even if deleted meanwhile.
  std::vector<DatasetLease> leases;
  BNMLP_ASSIGN_OR_RETURN(
      TrainingInputs<float> inputs,
      ResolveTrainingInputs(snapshot.model->config(), request, views, leases));
  // Admitted up front, for the whole run: a run that would not fit is
  // refused before the model is claimed or anything allocated.
  const int64_t batch =
      std::min<int64_t>(inputs.options().batch_size, inputs.train().size());
  BNMLP_ASSIGN_OR_RETURN(
      MemoryBudget::Reservation memory,
      training_memory_->Reserve(
          TrainingMemoryBytes(snapshot.model->config(), batch,
                              inputs.validation() != nullptr, sizeof(float)),
          absl::StrCat("Train of model '", request.name(), "' in batches of ",
                       batch,
                       " samples (batch_size; activations, gradients, "
                       "optimizer state and model copies)")));
  BNMLP_ASSIGN_OR_RETURN(
      std::unique_ptr<TrainingRun> run,
      registry_->StartTraining(request.name(), context.peer()));
  LogEvent(absl::StrCat(
      "event=train_started model=", request.name(), " peer=", context.peer(),
      " samples=", inputs.train().size(),
      request.dataset().empty() ? "" : " dataset=", request.dataset(),
      " epochs=", views.options.epochs,
      " from_version=", run->start().version));
  // Training only queues its events; `sender` writes them, so a client that
  // stops reading never stalls training (server/progress_sender.h).
  ProgressSender sender([&writer](const v1::TrainResponse& event) {
    return writer.Write(event);
  });
  v1::TrainProgress last;  // the newest epoch end or summary
  const auto offer = [&](const v1::TrainResponse& event) {
    if (event.has_epoch_end()) {
      last = event.epoch_end();
      RecordEpoch(request.name(), last);
    } else if (event.has_done()) {
      last = event.done();
    }
    return sender.Offer(event);
  };
  const TrainingStream stream{offer,
                              [&context] { return context.IsCancelled(); }};
  const absl::Status status =
      RunTrainingSession(*run, inputs, stream, request.resume());
  LogTrainingEnd(request.name(), status, last);
  // What is still queued (the last epoch end, the summary) goes out now. A
  // client that does not take it in time is cut off, so that the call's
  // thread, its request and its model copy are released.
  const absl::Duration patience =
      status.ok() ? kFinalEventsPatience : kStoppedRunPatience;
  if (!sender.Flush(patience)) {
    context.TryCancel();
    LogEvent(absl::StrCat("event=train_client_stalled model=", request.name(),
                          " queued_events=", sender.queued(),
                          " action=cancelled_call"));
  }
  return status;
}

void BnMlpServiceImpl::RecordEpoch(const std::string& model,
                                   const v1::TrainProgress& epoch_end) {
  if (options_.metrics == nullptr) return;
  options_.metrics->SetEpochFigures(
      model, TrainingFigures{epoch_end.samples_per_second(), epoch_end.loss(),
                             epoch_end.has_validation(),
                             epoch_end.validation_accuracy()});
}

void BnMlpServiceImpl::LogTrainingEnd(const std::string& model,
                                      const absl::Status& status,
                                      const v1::TrainProgress& last) {
  const absl::string_view outcome =
      status.ok() ? "ok"
      : (status.code() == absl::StatusCode::kCancelled ||
         status.code() == absl::StatusCode::kUnavailable)
          ? "cancelled"
          : "failed";
  if (options_.metrics != nullptr)
    options_.metrics->CountTraining(model, outcome);
  std::string line = absl::StrCat(
      "event=train_finished model=", model, " outcome=", outcome,
      " version=", last.version(), " epochs_done=", last.epoch(),
      " seconds=", absl::SixDigits(last.elapsed_seconds()),
      " samples_per_second=", absl::SixDigits(last.samples_per_second()),
      " loss=", absl::SixDigits(last.loss()),
      " accuracy=", absl::SixDigits(last.accuracy()));
  if (last.has_validation()) {
    absl::StrAppend(
        &line, " validation_loss=", absl::SixDigits(last.validation_loss()),
        " validation_accuracy=", absl::SixDigits(last.validation_accuracy()));
  }
  LogEvent(status.ok() ? LogLevel::kInfo : LevelOf(status.code()), line);
}

grpc::Status BnMlpServiceImpl::Predict(grpc::ServerContext* context,
                                       const v1::PredictRequest* request,
                                       v1::PredictResponse* response) {
  return ServeCall(rpc_, *context, "Predict", request->name(),
                   [&] { return DoPredict(*context, *request, response); });
}

absl::Status BnMlpServiceImpl::DoPredict(const grpc::ServerContext& context,
                                         const v1::PredictRequest& request,
                                         v1::PredictResponse* response) {
  BNMLP_ASSIGN_OR_RETURN(
      ModelSnapshot snapshot,
      registry_->GetSnapshot(request.name(), request.version()));
  const InferenceModel<float>& model = *snapshot.inference;
  BNMLP_ASSIGN_OR_RETURN(ConstMatrixMap<float> x,
                         PredictSamplesFromProto(request));
  BNMLP_ASSIGN_OR_RETURN(PredictInput<float> input,
                         ValidatePredictInput(model, x));
  const int64_t samples = input.samples();
  const int64_t max_output_values =
      options_.max_message_bytes / static_cast<int64_t>(sizeof(float));
  if (samples > max_output_values / model.output_size()) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "x: ", samples, " samples would need ", samples, " x ",
        model.output_size(), " output values, more than a response may hold (",
        options_.max_message_bytes,
        " bytes, --max_message_bytes); send fewer samples per call"));
  }
  // Wide models run in smaller chunks, so the workspace stays bounded
  // whatever the model (inference_model.h); it and the response are
  // reserved for the call.
  PredictOptions chunking;
  chunking.max_chunk_rows = model.ChunkRowsWithin(kDefaultMaxWorkspaceBytes);
  const bool classification = model.config().task == Task::kClassification;
  const int64_t response_bytes =
      samples * (model.output_size() * static_cast<int64_t>(sizeof(float)) +
                 (classification ? static_cast<int64_t>(sizeof(int32_t)) : 0));
  // A merged call also reserves its share of the merged product's gathered
  // inputs and outputs; the merged workspace (rows of every member) is at
  // most the sum of the members' (server/predict_batcher.h).
  const bool merged = predict_batcher_.Merges(samples);
  const int64_t workspace_bytes =
      model.WorkspaceBytes(std::min(samples, chunking.max_chunk_rows)) +
      (merged ? PredictBatcher::MergeBufferBytes(model, samples) : 0);
  BNMLP_ASSIGN_OR_RETURN(
      MemoryBudget::Reservation memory,
      serving_memory_->Reserve(
          workspace_bytes + 2 * response_bytes,
          absl::StrCat("Predict of ", samples, " samples on model '",
                       request.name(),
                       "' (workspace, response and its serialized copy)")));
  BNMLP_RETURN_IF_ERROR(RunPredict(context, model, input, chunking, response));
  const ConstMatrixMap<float> outputs(response->outputs().values().data(),
                                      model.output_size(), samples);
  if (model.config().task == Task::kClassification) {
    google::protobuf::RepeatedField<int32_t>* classes =
        response->mutable_classes();
    classes->Reserve(static_cast<int>(samples));
    ArgmaxPerColumn<float>(
        outputs,
        absl::MakeSpan(classes->AddNAlreadyReserved(static_cast<int>(samples)),
                       static_cast<size_t>(samples)));
  }
  response->set_version(snapshot.version);
  if (options_.metrics != nullptr) {
    options_.metrics->AddPredictRows(request.name(), samples);
  }
  // All of it: the workspace is trimmed when the handler returns, and the
  // response is sent after.
  HoldUntilCallEnds(context, std::move(memory));
  return absl::OkStatus();
}

absl::Status BnMlpServiceImpl::RunPredict(const grpc::ServerContext& context,
                                          const InferenceModel<float>& model,
                                          const PredictInput<float>& input,
                                          const PredictOptions& chunking,
                                          v1::PredictResponse* response) {
  const int64_t samples = input.samples();
  const bool merged = predict_batcher_.Merges(samples);
  // Waiting calls hold no output buffer: it is allocated once a slot is ours.
  // (Merged calls are small; theirs is allocated before they queue.)
  std::optional<ComputeSlots::Slot> slot;
  if (!merged && model.UsesComputePool(samples, chunking.max_chunk_rows)) {
    BNMLP_ASSIGN_OR_RETURN(slot, AwaitPredictSlot(context));
  }
  MatrixMap<float> outputs = ShapeOutputTensor(samples, model.output_size(),
                                               response->mutable_outputs());
  // One workspace per gRPC thread: Predict allocates nothing once it is warm.
  // A workspace grown beyond kKeptWorkspaceBytes (by a wide model) is freed
  // when the call ends, so idle threads keep at most that much outside the
  // budget.
  thread_local PredictWorkspace<float> workspace;
  const absl::Cleanup trim_workspace = [] {
    if (workspace.allocated_values() * static_cast<int64_t>(sizeof(float)) >
        kKeptWorkspaceBytes) {
      workspace = PredictWorkspace<float>();
    }
  };
  const auto should_stop = [&] { return CallShouldStop(context); };
  const absl::Status predicted =
      merged ? predict_batcher_.Run(model, input, outputs, workspace, chunking,
                                    context.deadline(), should_stop)
             : bnmlp::Predict(model, input, outputs, workspace, should_stop,
                              chunking);
  if (predicted.code() == absl::StatusCode::kCancelled) {
    return WhyCallStopped(
        context, merged ? " while queued to be merged with concurrent "
                          "Predicts (--batch_max_rows) or during its forward "
                          "pass"
                        : " during the forward pass");
  }
  return predicted;
}

bool BnMlpServiceImpl::CallShouldStop(
    const grpc::ServerContext& context) const {
  return stopping_.load(std::memory_order_relaxed) || context.IsCancelled() ||
         std::chrono::system_clock::now() >= context.deadline();
}

absl::Status BnMlpServiceImpl::WhyCallStopped(
    const grpc::ServerContext& context, absl::string_view where) const {
  if (stopping_.load()) {
    return absl::UnavailableError(absl::StrCat(kShuttingDown, where));
  }
  if (std::chrono::system_clock::now() >= context.deadline()) {
    return absl::DeadlineExceededError(
        absl::StrCat("the call's deadline passed", where));
  }
  return absl::CancelledError(
      absl::StrCat("the client cancelled the call", where));
}

absl::StatusOr<ComputeSlots::Slot> BnMlpServiceImpl::AwaitPredictSlot(
    const grpc::ServerContext& context) {
  std::optional<ComputeSlots::Slot> slot = predict_slots_.Acquire(
      context.deadline(), [this, &context] { return CallShouldStop(context); });
  if (slot.has_value()) return *std::move(slot);
  return WhyCallStopped(
      context,
      absl::StrCat(" while waiting for one of the ", predict_slots_.capacity(),
                   " compute slots large Predicts share "
                   "(--max_concurrent_predicts)"));
}

grpc::Status BnMlpServiceImpl::GetParameters(
    grpc::ServerContext* context, const v1::GetParametersRequest* request,
    v1::GetParametersResponse* response) {
  return ServeCall(rpc_, *context, "GetParameters", request->name(), [&] {
    return DoGetParameters(*context, *request, response);
  });
}

void BnMlpServiceImpl::HoldUntilCallEnds(const grpc::ServerContext& context,
                                         MemoryBudget::Reservation memory) {
  if (options_.call_memory != nullptr) {
    options_.call_memory->Hold(context, std::move(memory));
  }
}

absl::Status BnMlpServiceImpl::DoGetParameters(
    const grpc::ServerContext& context, const v1::GetParametersRequest& request,
    v1::GetParametersResponse* response) {
  BNMLP_ASSIGN_OR_RETURN(
      ModelSnapshot snapshot,
      registry_->GetSnapshot(request.name(), request.version()));
  // The response and gRPC's serialized copy of it, reserved while the call
  // builds it; beyond the budget: RESOURCE_EXHAUSTED (the client may retry)
  // rather than a queue of calls each holding a model's worth of memory.
  BNMLP_ASSIGN_OR_RETURN(
      MemoryBudget::Reservation memory,
      serving_memory_->Reserve(
          2 * ParametersResponseBytes(snapshot.model->config()),
          absl::StrCat("GetParameters of model '", request.name(),
                       "' (the response and its serialized "
                       "copy)")));
  response->set_name(request.name());
  response->set_version(snapshot.version);
  ParametersToProto(*snapshot.model, response);
  HoldUntilCallEnds(context, std::move(memory));
  return absl::OkStatus();
}

grpc::Status BnMlpServiceImpl::ListModels(
    grpc::ServerContext* context, const v1::ListModelsRequest* /*request*/,
    v1::ListModelsResponse* response) {
  return ServeCall(rpc_, *context, "ListModels", "", [&] {
    for (const ModelStatus& status : registry_->List()) {
      ModelStatusToProto(status, response->add_models());
    }
    return absl::OkStatus();
  });
}

grpc::Status BnMlpServiceImpl::GetModel(grpc::ServerContext* context,
                                        const v1::GetModelRequest* request,
                                        v1::ModelInfo* response) {
  return ServeCall(rpc_, *context, "GetModel", request->name(),
                   [&] { return DoGetModel(*request, response); });
}

absl::Status BnMlpServiceImpl::DoGetModel(const v1::GetModelRequest& request,
                                          v1::ModelInfo* response) {
  BNMLP_ASSIGN_OR_RETURN(ModelStatus status,
                         registry_->GetStatus(request.name()));
  ModelStatusToProto(status, response);
  return absl::OkStatus();
}

grpc::Status BnMlpServiceImpl::DeleteModel(
    grpc::ServerContext* context, const v1::DeleteModelRequest* request,
    v1::DeleteModelResponse* response) {
  return ServeCall(rpc_, *context, "DeleteModel", request->name(),
                   [&] { return DoDeleteModel(*request, response); });
}

absl::Status BnMlpServiceImpl::DoDeleteModel(
    const v1::DeleteModelRequest& request, v1::DeleteModelResponse* response) {
  BNMLP_ASSIGN_OR_RETURN(bool cancelled, registry_->Delete(request.name()));
  response->set_cancelled_training(cancelled);
  if (options_.metrics != nullptr)
    options_.metrics->ForgetModel(request.name());
  return absl::OkStatus();
}

}  // namespace bnmlp
