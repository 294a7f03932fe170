#include "server/training_session.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "server/response_conversion.h"

namespace bnmlp {
namespace {

// Why a cancelled run stopped, with the code the client gets: the
// registry's reason (DeleteModel: CANCELLED; shutdown: UNAVAILABLE) comes
// first, then the client's own cancellation.
absl::Status CancelCause(const TrainingRun& run, bool client_cancelled,
                         bool stream_broken) {
  if (absl::Status cause = run.cancel_status(); !cause.ok()) return cause;
  if (client_cancelled) {
    return absl::CancelledError(
        "Train cancelled by the client (the call was cancelled or its "
        "deadline passed)");
  }
  if (stream_broken) {
    return absl::CancelledError(
        "the client stopped reading the progress stream");
  }
  return absl::CancelledError("Train cancelled");
}

// `cause` with where training stopped and what the model keeps, e.g.
// "the server is shutting down: training of model 'm' stopped in epoch 2
// at batch 7 of 469; the model keeps version 2".
absl::Status DescribeStop(const absl::Status& cause,
                          const absl::Status& engine_status,
                          const TrainingRun& run) {
  return absl::Status(
      cause.code(),
      absl::StrCat(cause.message(), ": ", engine_status.message(),
                   "; the model keeps version ", run.current_version()));
}

}  // namespace

absl::Status RunTrainingSession(TrainingRun& run,
                                const TrainingInputs<float>& inputs,
                                const TrainingStream& stream, bool resume) {
  const TrainingCheckpoint<float>* resume_from = run.start().checkpoint.get();
  if (resume && resume_from == nullptr) {
    const absl::Status refused = absl::FailedPreconditionError(absl::StrCat(
        "resume: version ", run.start().version,
        " of the model carries no training state to resume from (it was "
        "created or imported, not trained here); train without resume"));
    run.Finish(refused);
    return refused;
  }
  if (!resume) resume_from = nullptr;
  Model<float> model = *run.start().model;
  bool stream_broken = false;
  std::shared_ptr<const TrainingCheckpoint<float>> checkpoint;
  TrainCallbacks<float> callbacks;
  callbacks.on_epoch_checkpoint = [&](const TrainingCheckpoint<float>& c) {
    checkpoint = std::make_shared<const TrainingCheckpoint<float>>(c);
  };
  callbacks.on_progress = [&](const TrainingProgress& progress,
                              const Model<float>& current) {
    const ProgressRecord record =
        progress.epoch_end
            ? run.Publish(current, progress, std::move(checkpoint))
            : run.Report(progress);
    stream_broken = !stream.send(ProgressEvent(record));
    return !stream_broken;
  };
  callbacks.should_stop = [&] {
    return run.cancel_requested() || stream.client_cancelled();
  };
  absl::StatusOr<TrainingProgress> result =
      Train(&model, inputs, callbacks, resume_from);

  absl::Status status = result.status();
  // The final message goes out only once the last version is durable.
  if (status.ok()) status = run.MakeDurable();
  if (status.code() == absl::StatusCode::kCancelled) {
    status =
        DescribeStop(CancelCause(run, stream.client_cancelled(), stream_broken),
                     status, run);
  } else if (!status.ok()) {
    // E.g. divergence: nothing of the failed epoch was published.
    status =
        absl::Status(status.code(), absl::StrCat(status.message(),
                                                 "; the model keeps version ",
                                                 run.current_version()));
  }
  const ProgressRecord last = run.Finish(status);
  if (!status.ok()) return status;
  // The versions are published; a client gone by now changes nothing.
  stream.send(DoneEvent(last));
  return absl::OkStatus();
}

}  // namespace bnmlp
