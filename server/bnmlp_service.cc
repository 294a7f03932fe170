#include "server/bnmlp_service.h"

#include <chrono>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "core/dataset.h"
#include "core/parallel_product.h"
#include "core/predict.h"
#include "core/trainer.h"
#include "server/event_log.h"
#include "server/proto_conversion.h"
#include "server/status_conversion.h"

namespace bnmlp {
namespace {

#define BNMLP_RETURN_IF_ERROR(expr)                     \
  do {                                                  \
    if (absl::Status status_ = (expr); !status_.ok()) { \
      return status_;                                   \
    }                                                   \
  } while (false)

// Logs the call's line and converts its status for gRPC.
grpc::Status FinishCall(absl::string_view method, absl::string_view model,
                        absl::Time start, const absl::Status& status) {
  LogEvent(FormatRpcEvent(method, model, status, absl::Now() - start));
  return ToGrpcStatus(status);
}

// Whether predicting `samples` samples is big enough for the engine to split
// its products over the compute pool (about one multiply-add per parameter
// per sample); smaller ones run at once without taking a compute slot.
bool UsesComputePool(const Model<float>& model, int64_t samples) {
  return static_cast<double>(samples) *
             static_cast<double>(model.parameter_count()) >=
         kMinParallelMacs;
}

// What stopped a cancelled run, for its CANCELLED status and last_error.
std::string CancelReason(const TrainingRun& run,
                         const grpc::ServerContext& context,
                         bool stream_broken) {
  if (run.cancel_requested()) return run.cancel_reason();
  if (context.IsCancelled()) {
    return "Train cancelled by the client (the call was cancelled or its "
           "deadline passed)";
  }
  if (stream_broken) return "the client stopped reading the progress stream";
  return "Train cancelled";
}

// Trains a private copy of the run's start version, publishing every epoch
// and streaming progress; ends the run and sends the final summary.
absl::Status RunTraining(TrainingRun& run, const TrainInputs& inputs,
                         grpc::ServerContext& context,
                         grpc::ServerWriter<v1::TrainProgress>& writer) {
  Model<float> model = *run.start().model;
  bool stream_broken = false;
  TrainCallbacks<float> callbacks;
  callbacks.on_progress = [&](const TrainingProgress& progress,
                              const Model<float>& current) {
    const int64_t version = progress.epoch_end ? run.Publish(current, progress)
                                               : run.Report(progress);
    v1::TrainProgress message;
    ProgressToProto(ProgressRecord{progress, version}, &message);
    stream_broken = !writer.Write(message);
    return !stream_broken;
  };
  callbacks.should_stop = [&] {
    return run.cancel_requested() || context.IsCancelled();
  };
  const Dataset<float>* validation =
      inputs.validation.has_value() ? &*inputs.validation : nullptr;
  absl::StatusOr<TrainingProgress> result =
      Train(&model, inputs.train, validation, inputs.options, callbacks);

  absl::Status status = result.status();
  if (status.code() == absl::StatusCode::kCancelled) {
    status = absl::CancelledError(CancelReason(run, context, stream_broken));
  }
  const int64_t final_version = run.Finish(status);
  if (!status.ok()) return status;
  v1::TrainProgress summary;
  ProgressToProto(ProgressRecord{*result, final_version, /*done=*/true},
                  &summary);
  // The versions are published; a client gone by now changes nothing.
  writer.Write(summary);
  return absl::OkStatus();
}

}  // namespace

BnMlpServiceImpl::BnMlpServiceImpl(ModelRegistry* registry,
                                   ServiceOptions options)
    : registry_(registry),
      options_(options),
      predict_slots_(options.max_concurrent_predicts) {}

grpc::Status BnMlpServiceImpl::CreateModel(
    grpc::ServerContext* /*context*/, const v1::CreateModelRequest* request,
    v1::ModelInfo* response) {
  const ActiveCalls::Scope call(active_calls_);
  const absl::Time start = absl::Now();
  return FinishCall("CreateModel", request->name(), start,
                    DoCreateModel(*request, response));
}

absl::Status BnMlpServiceImpl::DoCreateModel(
    const v1::CreateModelRequest& request, v1::ModelInfo* response) {
  absl::StatusOr<ModelConfig> config = ModelConfigFromProto(request);
  if (!config.ok()) return config.status();
  absl::StatusOr<ModelStatus> created =
      registry_->Create(request.name(), *config);
  if (!created.ok()) return created.status();
  ModelStatusToProto(*created, response);
  return absl::OkStatus();
}

grpc::Status BnMlpServiceImpl::Train(
    grpc::ServerContext* context, const v1::TrainRequest* request,
    grpc::ServerWriter<v1::TrainProgress>* writer) {
  const ActiveCalls::Scope call(active_calls_);
  const absl::Time start = absl::Now();
  return FinishCall("Train", request->name(), start,
                    DoTrain(context, *request, writer));
}

absl::Status BnMlpServiceImpl::DoTrain(
    grpc::ServerContext* context, const v1::TrainRequest& request,
    grpc::ServerWriter<v1::TrainProgress>* writer) {
  absl::StatusOr<ModelSnapshot> snapshot =
      registry_->GetSnapshot(request.name());
  if (!snapshot.ok()) return snapshot.status();
  absl::StatusOr<TrainInputs> inputs =
      TrainInputsFromProto(request, options_.progress_interval_seconds);
  if (!inputs.ok()) return inputs.status();
  // Checked before the model is claimed, so a rejected request leaves the
  // model's state as it was.
  BNMLP_RETURN_IF_ERROR(ValidateTrainInputs(
      snapshot->model->config(), inputs->train,
      inputs->validation.has_value() ? &*inputs->validation : nullptr,
      inputs->options));
  absl::StatusOr<std::unique_ptr<TrainingRun>> run =
      registry_->StartTraining(request.name(), context->peer());
  if (!run.ok()) return run.status();
  LogEvent(absl::StrCat(
      "event=train_started model=", request.name(), " peer=", context->peer(),
      " samples=", inputs->train.size(), " epochs=", inputs->options.epochs,
      " from_version=", (*run)->start().version));
  return RunTraining(**run, *inputs, *context, *writer);
}

grpc::Status BnMlpServiceImpl::Predict(grpc::ServerContext* context,
                                       const v1::PredictRequest* request,
                                       v1::PredictResponse* response) {
  const ActiveCalls::Scope call(active_calls_);
  const absl::Time start = absl::Now();
  return FinishCall("Predict", request->name(), start,
                    DoPredict(*context, *request, response));
}

absl::Status BnMlpServiceImpl::DoPredict(const grpc::ServerContext& context,
                                         const v1::PredictRequest& request,
                                         v1::PredictResponse* response) {
  absl::StatusOr<ModelSnapshot> snapshot =
      registry_->GetSnapshot(request.name());
  if (!snapshot.ok()) return snapshot.status();
  const Model<float>& model = *snapshot->model;
  absl::StatusOr<ConstMatrixMap<float>> x =
      PredictInputFromTensor(request.x(), model.input_size(), "x");
  if (!x.ok()) return x.status();
  const int64_t samples = x->cols();
  const int64_t max_output_values =
      options_.max_message_bytes / static_cast<int64_t>(sizeof(float));
  if (samples > max_output_values / model.output_size()) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "x: ", samples, " samples would need ", samples, " x ",
        model.output_size(), " output values, more than a response may hold (",
        options_.max_message_bytes,
        " bytes, --max_message_bytes); send "
        "fewer samples per call"));
  }
  // Waiting calls hold no output buffer: it is allocated once a slot is ours.
  std::optional<ComputeSlots::Slot> slot;
  if (UsesComputePool(model, samples)) {
    absl::StatusOr<ComputeSlots::Slot> taken = AwaitPredictSlot(context);
    if (!taken.ok()) return taken.status();
    slot = *std::move(taken);
  }
  MatrixMap<float> outputs = ShapeOutputTensor(samples, model.output_size(),
                                               response->mutable_outputs());
  BNMLP_RETURN_IF_ERROR(bnmlp::Predict(model, *x, outputs));
  slot.reset();
  if (model.config().task == Task::kClassification) {
    response->mutable_classes()->Resize(static_cast<int>(samples), 0);
    ArgmaxPerColumn<float>(
        ConstMatrixMap<float>(outputs.data(), outputs.rows(), outputs.cols()),
        absl::MakeSpan(response->mutable_classes()->mutable_data(),
                       response->classes_size()));
  }
  response->set_version(snapshot->version);
  return absl::OkStatus();
}

absl::StatusOr<ComputeSlots::Slot> BnMlpServiceImpl::AwaitPredictSlot(
    const grpc::ServerContext& context) {
  std::optional<ComputeSlots::Slot> slot = predict_slots_.Acquire(
      context.deadline(), [&context] { return context.IsCancelled(); });
  if (slot.has_value()) return *std::move(slot);
  const std::string waited = absl::StrCat(
      " while waiting for one of the ", predict_slots_.capacity(),
      " compute slots large Predicts share (--max_concurrent_predicts)");
  if (std::chrono::system_clock::now() >= context.deadline()) {
    return absl::DeadlineExceededError(
        absl::StrCat("the call's deadline passed", waited));
  }
  return absl::CancelledError(
      absl::StrCat("the client cancelled the call", waited));
}

grpc::Status BnMlpServiceImpl::GetParameters(
    grpc::ServerContext* /*context*/, const v1::GetParametersRequest* request,
    v1::GetParametersResponse* response) {
  const ActiveCalls::Scope call(active_calls_);
  const absl::Time start = absl::Now();
  return FinishCall("GetParameters", request->name(), start,
                    DoGetParameters(*request, response));
}

absl::Status BnMlpServiceImpl::DoGetParameters(
    const v1::GetParametersRequest& request,
    v1::GetParametersResponse* response) {
  absl::StatusOr<ModelSnapshot> snapshot =
      registry_->GetSnapshot(request.name());
  if (!snapshot.ok()) return snapshot.status();
  response->set_name(request.name());
  response->set_version(snapshot->version);
  ParametersToProto(*snapshot->model, response);
  return absl::OkStatus();
}

grpc::Status BnMlpServiceImpl::ListModels(
    grpc::ServerContext* /*context*/, const v1::ListModelsRequest* /*request*/,
    v1::ListModelsResponse* response) {
  const ActiveCalls::Scope call(active_calls_);
  const absl::Time start = absl::Now();
  for (const ModelStatus& status : registry_->List()) {
    ModelStatusToProto(status, response->add_models());
  }
  return FinishCall("ListModels", "", start, absl::OkStatus());
}

grpc::Status BnMlpServiceImpl::GetModel(grpc::ServerContext* /*context*/,
                                        const v1::GetModelRequest* request,
                                        v1::ModelInfo* response) {
  const ActiveCalls::Scope call(active_calls_);
  const absl::Time start = absl::Now();
  absl::StatusOr<ModelStatus> status = registry_->GetStatus(request->name());
  if (status.ok()) ModelStatusToProto(*status, response);
  return FinishCall("GetModel", request->name(), start, status.status());
}

grpc::Status BnMlpServiceImpl::DeleteModel(
    grpc::ServerContext* /*context*/, const v1::DeleteModelRequest* request,
    v1::DeleteModelResponse* response) {
  const ActiveCalls::Scope call(active_calls_);
  const absl::Time start = absl::Now();
  absl::StatusOr<bool> cancelled = registry_->Delete(request->name());
  if (cancelled.ok()) response->set_cancelled_training(*cancelled);
  return FinishCall("DeleteModel", request->name(), start, cancelled.status());
}

}  // namespace bnmlp
