#include "server/bnmlp_service.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "core/trainer.h"
#include "server/event_log.h"
#include "server/progress_sender.h"
#include "server/request_conversion.h"
#include "server/response_conversion.h"
#include "server/rpc_call.h"
#include "server/tensor_views.h"
#include "server/training_run.h"
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

// Idle threads kept for large Predicts (server/call_threads.h).
constexpr int kIdleLargePredictThreads = 4;

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
      serving_memory_(OrUnlimited(options.serving_memory)),
      large_predict_threads_(kIdleLargePredictThreads) {
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

bool BnMlpServiceImpl::CallShouldStop(
    const grpc::ServerContextBase& context) const {
  return stopping_.load(std::memory_order_relaxed) || context.IsCancelled() ||
         std::chrono::system_clock::now() >= context.deadline();
}

absl::Status BnMlpServiceImpl::WhyCallStopped(
    const grpc::ServerContextBase& context, absl::string_view where) const {
  if (stopping_.load()) {
    return absl::UnavailableError(absl::StrCat(kShuttingDown, where));
  }
  // A client whose deadline passes cancels the call, and that cancel can
  // reach the server just before the server's own copy of the deadline
  // (which counts from when the call's headers arrived): such a call
  // stopped for its deadline, not because the client gave up.
  constexpr std::chrono::milliseconds kDeadlineLag{100};
  if (std::chrono::system_clock::now() + kDeadlineLag >= context.deadline()) {
    return absl::DeadlineExceededError(
        absl::StrCat("the call's deadline passed", where));
  }
  return absl::CancelledError(
      absl::StrCat("the client cancelled the call", where));
}

grpc::Status BnMlpServiceImpl::GetParameters(
    grpc::ServerContext* context, const v1::GetParametersRequest* request,
    v1::GetParametersResponse* response) {
  return ServeCall(rpc_, *context, "GetParameters", request->name(), [&] {
    return DoGetParameters(*context, *request, response);
  });
}

void BnMlpServiceImpl::HoldUntilCallEnds(const grpc::ServerContextBase& context,
                                         MemoryBudget::Reservation memory) {
  if (options_.call_memory != nullptr) {
    options_.call_memory->Hold(context, std::move(memory));
  }
}

absl::Status BnMlpServiceImpl::DoGetParameters(
    const grpc::ServerContextBase& context,
    const v1::GetParametersRequest& request,
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
