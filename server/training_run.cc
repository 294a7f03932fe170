#include "server/training_run.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/event_log.h"
#include "server/model_entry.h"
#include "server/store/model_record.h"
#include "server/store/model_store.h"

namespace bnmlp {

TrainingRun::TrainingRun(std::shared_ptr<ModelEntry> entry,
                         std::shared_ptr<TrainingControl> control,
                         ModelSnapshot start)
    : entry_(std::move(entry)),
      control_(std::move(control)),
      start_(std::move(start)) {}

TrainingRun::~TrainingRun() {
  if (!finished_) {
    Finish(absl::InternalError("the training run ended without a result"));
  }
}

bool TrainingRun::cancel_requested() const {
  return control_->cancelled.load(std::memory_order_acquire);
}

absl::Status TrainingRun::cancel_status() const {
  ReaderLock lock(&control_->mu);
  return control_->cause;
}

int64_t TrainingRun::current_version() const {
  ReaderLock lock(&entry_->mu);
  return entry_->published.version;
}

ProgressRecord TrainingRun::Publish(
    const Model<float>& model, const TrainingProgress& progress,
    std::shared_ptr<const TrainingCheckpoint<float>> checkpoint) {
  // The copy and the fold happen before the lock (the version is set under
  // it); the replaced snapshot is released after it, when `replaced` goes
  // out of scope.
  ModelSnapshot replaced;
  ModelSnapshot next = MakeSnapshot(model, /*version=*/0);
  next.checkpoint = std::move(checkpoint);
  ProgressRecord record;
  {
    WriterLock lock(&entry_->mu);
    replaced = std::move(entry_->published);
    next.version = replaced.version + 1;
    entry_->published = next;
    entry_->last_progress = ProgressRecord{progress, next.version};
    record = *entry_->last_progress;
  }
  if (entry_->files != nullptr) {
    entry_->files->WriteVersionInBackground(ModelVersion{
        entry_->name, next.version, next.model, next.checkpoint, progress});
  }
  return record;
}

absl::Status TrainingRun::MakeDurable() {
  if (entry_->files == nullptr) return absl::OkStatus();
  absl::Status flushed = entry_->files->Flush();
  if (flushed.ok()) return flushed;
  return absl::Status(
      flushed.code(),
      absl::StrCat("the model store could not write model ",
                   QuotedModelName(entry_->name), ": ", flushed.message()));
}

ProgressRecord TrainingRun::Report(const TrainingProgress& progress) {
  WriterLock lock(&entry_->mu);
  entry_->last_progress = ProgressRecord{progress, entry_->published.version};
  return *entry_->last_progress;
}

ProgressRecord TrainingRun::Finish(const absl::Status& status) {
  finished_ = true;
  const bool cancelled =
      cancel_requested() || status.code() == absl::StatusCode::kCancelled;
  ProgressRecord last;
  StoredTrainingState stored;
  bool deleted = false;
  {
    WriterLock lock(&entry_->mu);
    if (status.ok()) {
      entry_->state = TrainingState::kTrained;
    } else {
      entry_->state =
          cancelled ? TrainingState::kCancelled : TrainingState::kFailed;
    }
    entry_->last_error = std::string(status.message());
    if (entry_->last_progress.has_value()) {
      entry_->last_progress->version = entry_->published.version;
      stored.last_progress = entry_->last_progress->progress;
    }
    if (entry_->training == control_) entry_->training.reset();
    last = entry_->last_progress.value_or(ProgressRecord{});
    last.version = entry_->published.version;
    stored.state = entry_->state;
    stored.last_error = entry_->last_error;
    deleted = entry_->deleted;
  }
  if (entry_->files != nullptr && !deleted) {
    if (absl::Status written = entry_->files->WriteTrainingState(stored);
        !written.ok()) {
      LogEvent(LogLevel::kError,
               absl::StrCat("event=store_state_write_failed model=",
                            entry_->name, " reason=\"", written.message(),
                            "\" consequence=a_restart_reports_interrupted"));
    }
  }
  return last;
}

}  // namespace bnmlp
