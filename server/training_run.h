// A training run's hold on its model: what a Train uses to publish
// versions, report progress and end the run (ModelRegistry::StartTraining
// creates it).
#ifndef BNMLP_SERVER_TRAINING_RUN_H_
#define BNMLP_SERVER_TRAINING_RUN_H_

#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "core/model.h"
#include "core/trainer.h"
#include "server/model_registry.h"

namespace bnmlp {

struct ModelEntry;       // server/model_entry.h
struct TrainingControl;  // server/model_entry.h

// One training run's exclusive right to publish new versions of a model.
// Created by ModelRegistry::StartTraining; the model shows TRAINING until
// Finish (or destruction, which ends the run as failed). May outlive the
// registry and a DeleteModel (then publishing reaches nobody).
// Thread-compatible: one thread drives it, except cancel_requested() and
// cancel_status(), which any thread may call.
class TrainingRun {
 public:
  TrainingRun(const TrainingRun&) = delete;
  TrainingRun& operator=(const TrainingRun&) = delete;
  ~TrainingRun();

  // The version that was published when the run started (train a copy).
  const ModelSnapshot& start() const { return start_; }

  // True once DeleteModel or CancelAllTrainings cancelled the run.
  bool cancel_requested() const;
  // Why it was cancelled: CANCELLED (the model was deleted) or UNAVAILABLE
  // (the server is shutting down), with a message; OK if it was not.
  absl::Status cancel_status() const;
  // The model's latest published version.
  int64_t current_version() const;

  // Publishes a copy of `model` as the next version (an epoch end) with
  // the state to resume from it (may be null), and records `progress`;
  // with a store the version is written in the background. Returns
  // `progress` with the new version.
  ProgressRecord Publish(
      const Model<float>& model, const TrainingProgress& progress,
      std::shared_ptr<const TrainingCheckpoint<float>> checkpoint = nullptr);
  // With a store: waits until every published version is durable; the
  // first write error otherwise (naming the path). OK without a store.
  absl::Status MakeDurable();
  // Records mid-epoch progress. Returns it with the current version.
  ProgressRecord Report(const TrainingProgress& progress);
  // Ends the run: OK means TRAINED; a cancelled run (cancel_requested(), or
  // a CANCELLED status) TRAINING_CANCELLED; anything else TRAINING_FAILED.
  // A non-OK message becomes last_error; with a store the final state is
  // written (a restart then shows it). Returns the last progress (empty
  // figures if there was none) with the final version.
  ProgressRecord Finish(const absl::Status& status);

 private:
  friend class ModelRegistry;
  TrainingRun(std::shared_ptr<ModelEntry> entry,
              std::shared_ptr<TrainingControl> control, ModelSnapshot start);

  const std::shared_ptr<ModelEntry> entry_;
  const std::shared_ptr<TrainingControl> control_;
  const ModelSnapshot start_;
  bool finished_ = false;
};

}  // namespace bnmlp

#endif  // BNMLP_SERVER_TRAINING_RUN_H_
