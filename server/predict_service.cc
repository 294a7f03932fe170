// Predict, on gRPC's callback API (server/bnmlp_service.h says why).
#include <atomic>
#include <memory>
#include <optional>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "core/inference_model.h"
#include "core/predict.h"
#include "server/bnmlp_service.h"
#include "server/rpc_call.h"
#include "server/tensor_views.h"

namespace bnmlp {
// A validated Predict, ready to compute.
struct BnMlpServiceImpl::PredictPlan {
  ModelSnapshot snapshot;  // keeps the model version alive
  PredictInput<float> input;
  PredictOptions chunking;
  bool merged = false;  // computed by the batcher
  // Not merged: whether its products split over the compute pool (then it
  // runs on a thread of its own, in a compute slot).
  bool uses_compute_pool = false;
  // The workspace, the response and its serialized copy (and, merged, the
  // gather buffers' share), until the response is sent.
  MemoryBudget::Reservation memory;
};

// One Predict from its handler to OnDone. The handler creates it and hands
// it to gRPC, which calls OnDone once the call is over; OnDone deletes it
// (the reactor lifetime gRPC's callback API prescribes). Complete ends the
// call exactly once, on whichever thread computed it: the handler's (a call
// alone, or a batch leader), a batch leader's, or one of the CallThreads.
class BnMlpServiceImpl::PredictCall final : public grpc::ServerUnaryReactor {
 public:
  PredictCall(BnMlpServiceImpl& service, grpc::CallbackServerContext& context,
              const v1::PredictRequest& request, v1::PredictResponse& response)
      : service_(service),
        context_(context),
        request_(request),
        response_(response),
        rpc_(service.rpc_, context, "Predict", request.name()) {}

  // Admits, validates and computes the call, or hands it to whoever will.
  // Called by the handler (the call lives until OnDone, which gRPC runs only
  // after the handler returned).
  void Start() {
    AdmitAndRun();
    started_.store(true, std::memory_order_release);
  }

  // The client cancelled, or the deadline passed: a call still queued in
  // the batcher leaves it now (a computing one ends when it is done).
  void OnCancel() override;
  void OnDone() override;

 private:
  // Start's work: every path ends in Complete, now or on another thread.
  void AdmitAndRun();

  // The batcher's view of a merged call.
  class Batched final : public PredictBatcher::Call {
   public:
    Batched(PredictCall& owner, const PredictInput<float>& input,
            MatrixMap<float> outputs)
        : PredictBatcher::Call(input, outputs), owner_(owner) {}
    void Done(absl::Status status) override { owner_.Complete(status); }

   private:
    PredictCall& owner_;
  };

  // Fills the response around the computed outputs, logs, finishes.
  void Complete(const absl::Status& status);

  BnMlpServiceImpl& service_;
  grpc::CallbackServerContext& context_;
  const v1::PredictRequest& request_;
  v1::PredictResponse& response_;
  RpcCall rpc_;
  std::optional<PredictPlan> plan_;
  std::optional<Batched> batched_;
  bool counted_ = false;  // in predict_calls_ (until Complete)
  // Set (release) as Start returns; read (acquire) first by OnCancel, which
  // gRPC runs only after the handler returned, possibly on another of its
  // threads. That hand-off happens inside gRPC, where ThreadSanitizer cannot
  // see it: this makes everything Start wrote (plan_, batched_, even this
  // object's construction) visibly ordered before OnCancel, whichever path
  // the call took.
  std::atomic<bool> started_{false};
  // Set (release) as Complete finishes and read (acquire) by OnDone, so that
  // ThreadSanitizer sees the call handed from the thread that completed it
  // to the one that deletes it (the hand-off inside gRPC is invisible to it).
  std::atomic<bool> completed_{false};
};

grpc::ServerUnaryReactor* BnMlpServiceImpl::Predict(
    grpc::CallbackServerContext* context, const v1::PredictRequest* request,
    v1::PredictResponse* response) {
  auto call =
      std::make_unique<PredictCall>(*this, *context, *request, *response);
  call->Start();
  return call.release();  // deleted by its OnDone
}

void BnMlpServiceImpl::PredictCall::AdmitAndRun() {
  if (absl::Status admitted = rpc_.Admit(); !admitted.ok()) {
    return Complete(admitted);
  }
  // Counted from here until Complete (not until OnDone, which gRPC may run
  // well after the client has its answer).
  const int calls =
      service_.predict_calls_.fetch_add(1, std::memory_order_relaxed) + 1;
  counted_ = true;
  if (calls > service_.options_.max_predict_calls) {
    return Complete(absl::ResourceExhaustedError(
        absl::StrCat(calls - 1,
                     " Predicts are in progress, the most this server serves "
                     "at once is ",
                     service_.options_.max_predict_calls, "; retry later")));
  }
  absl::StatusOr<PredictPlan> plan = service_.PlanPredict(request_);
  if (!plan.ok()) return Complete(plan.status());
  plan_.emplace(*std::move(plan));
  const InferenceModel<float>& model = *plan_->snapshot.inference;
  if (plan_->merged) {
    batched_.emplace(
        *this, plan_->input,
        ShapeOutputTensor(plan_->input.samples(), model.output_size(),
                          response_.mutable_outputs()));
    return service_.predict_batcher_.Submit(model, *batched_, plan_->chunking);
  }
  if (!plan_->uses_compute_pool) {
    // Short (each product below the pool's threshold): computed here.
    return Complete(service_.RunPredict(context_, *plan_, response_));
  }
  // It may wait for a compute slot, and computes for a while.
  service_.large_predict_threads_.Run(
      [this] { Complete(service_.RunPredict(context_, *plan_, response_)); });
}

void BnMlpServiceImpl::PredictCall::OnCancel() {
  if (!started_.load(std::memory_order_acquire)) return;
  if (!batched_.has_value()) return;  // not merged: ends when computed
  if (service_.predict_batcher_.Withdraw(*plan_->snapshot.inference,
                                         *batched_)) {
    Complete(service_.WhyCallStopped(
        context_,
        " while queued to be merged with concurrent Predicts "
        "(--batch_max_rows)"));
  }
}

void BnMlpServiceImpl::PredictCall::Complete(const absl::Status& status) {
  if (counted_) service_.predict_calls_.fetch_sub(1, std::memory_order_relaxed);
  if (status.ok()) {
    service_.FinishPredictResponse(*plan_, request_.name(), &response_);
  }
  const grpc::Status sent = rpc_.Finish(status);
  completed_.store(true, std::memory_order_release);
  Finish(sent);
}

void BnMlpServiceImpl::PredictCall::OnDone() {
  completed_.load(std::memory_order_acquire);  // gRPC calls OnDone after Finish
  delete this;
}

absl::StatusOr<BnMlpServiceImpl::PredictPlan> BnMlpServiceImpl::PlanPredict(
    const v1::PredictRequest& request) {
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
  const bool uses_compute_pool =
      !merged && model.UsesComputePool(samples, chunking.max_chunk_rows);
  return PredictPlan{
      std::move(snapshot), input, chunking, merged, uses_compute_pool,
      std::move(memory)};
}

absl::Status BnMlpServiceImpl::RunPredict(
    const grpc::ServerContextBase& context, const PredictPlan& plan,
    v1::PredictResponse& response) {
  const InferenceModel<float>& model = *plan.snapshot.inference;
  const int64_t samples = plan.input.samples();
  // Waiting calls hold no output buffer: it is allocated once a slot is ours.
  std::optional<ComputeSlots::Slot> slot;
  if (plan.uses_compute_pool) {
    BNMLP_ASSIGN_OR_RETURN(slot, AwaitPredictSlot(context));
  }
  MatrixMap<float> outputs = ShapeOutputTensor(samples, model.output_size(),
                                               response.mutable_outputs());
  // One workspace per thread: Predict allocates nothing once it is warm.
  // A workspace grown beyond kKeptWorkspaceBytes (by a wide model) is freed
  // when the call ends, so idle threads keep at most that much outside the
  // budget.
  thread_local PredictWorkspace<float> workspace;
  const absl::Cleanup trim_workspace = [] {
    workspace.TrimTo(kKeptWorkspaceBytes);
  };
  const auto should_stop = [&] { return CallShouldStop(context); };
  const absl::Status predicted = bnmlp::Predict(
      model, plan.input, outputs, workspace, should_stop, plan.chunking);
  if (predicted.code() == absl::StatusCode::kCancelled) {
    return WhyCallStopped(context, " during the forward pass");
  }
  return predicted;
}

void BnMlpServiceImpl::FinishPredictResponse(const PredictPlan& plan,
                                             absl::string_view model_name,
                                             v1::PredictResponse* response) {
  const InferenceModel<float>& model = *plan.snapshot.inference;
  const int64_t samples = plan.input.samples();
  if (model.config().task == Task::kClassification) {
    const ConstMatrixMap<float> outputs(response->outputs().values().data(),
                                        model.output_size(), samples);
    google::protobuf::RepeatedField<int32_t>* classes =
        response->mutable_classes();
    classes->Reserve(static_cast<int>(samples));
    ArgmaxPerColumn<float>(
        outputs,
        absl::MakeSpan(classes->AddNAlreadyReserved(static_cast<int>(samples)),
                       static_cast<size_t>(samples)));
  }
  response->set_version(plan.snapshot.version);
  if (options_.metrics != nullptr) {
    options_.metrics->AddPredictRows(model_name, samples);
  }
}

absl::StatusOr<ComputeSlots::Slot> BnMlpServiceImpl::AwaitPredictSlot(
    const grpc::ServerContextBase& context) {
  std::optional<ComputeSlots::Slot> slot = predict_slots_.Acquire(
      context.deadline(), [this, &context] { return CallShouldStop(context); });
  if (slot.has_value()) return *std::move(slot);
  return WhyCallStopped(
      context,
      absl::StrCat(" while waiting for one of the ", predict_slots_.capacity(),
                   " compute slots large Predicts share "
                   "(--max_concurrent_predicts)"));
}

}  // namespace bnmlp
