// The server's in-memory models: named entries that publish immutable,
// versioned snapshots, with at most one training run per model.
#ifndef BNMLP_SERVER_MODEL_REGISTRY_H_
#define BNMLP_SERVER_MODEL_REGISTRY_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/annotated_mutex.h"
#include "core/inference_model.h"
#include "core/model.h"
#include "core/model_config.h"
#include "core/trainer.h"

namespace bnmlp {

enum class TrainingState {
  kUntrained,  // never trained: the seeded initialization
  kTraining,   // a TrainingRun is active
  kTrained,    // the last run finished every epoch
  kCancelled,  // the last run was cancelled; the model kept its last version
  kFailed,     // the last run failed; the model kept its last version
};

// A published model and its version. The model is immutable and stays alive
// as long as someone holds the snapshot, even after a newer version or a
// DeleteModel.
struct ModelSnapshot {
  std::shared_ptr<const Model<float>> model;
  // The same version in evaluation form (BatchNorm folded), built once when
  // the version is published: what Predict runs.
  std::shared_ptr<const InferenceModel<float>> inference;
  int64_t version = 0;
};

// Publishes `model` as `version`: the snapshot owns it and its inference
// form.
ModelSnapshot MakeSnapshot(Model<float> model, int64_t version);

// A progress report of a training run, with the version published when it
// was made (the new one at an epoch end, the previous one mid-epoch).
struct ProgressRecord {
  TrainingProgress progress;
  int64_t version = 0;
};

// A consistent copy of one model's registry state.
struct ModelStatus {
  std::string name;
  ModelConfig config;
  int64_t parameter_count = 0;
  int64_t version = 0;
  TrainingState training_state = TrainingState::kUntrained;
  // The last progress of the running or most recent run, if any.
  std::optional<ProgressRecord> last_progress;
  // Why the last run failed or was cancelled; empty otherwise.
  std::string last_error;
};

struct RegistryLimits {
  int max_models = 64;
  // Per model; ValidateModelConfig's limit.
  int64_t max_parameters = int64_t{16} << 20;
};

// OK if `name` has 1-64 characters from [A-Za-z0-9_.-] and starts with a
// letter or digit; otherwise INVALID_ARGUMENT naming the field `name`.
absl::Status ValidateModelName(absl::string_view name);

class TrainingRun;
struct ModelEntry;       // defined in model_registry.cc
struct TrainingControl;  // defined in model_registry.cc

// Thread-safe. Every method returns after holding locks only for map and
// field updates: no lock is held while a model is allocated, copied or
// trained, so Predict (GetSnapshot) never waits for training.
//
// Errors: INVALID_ARGUMENT for a bad name or config, NOT_FOUND for an unknown
// model, ALREADY_EXISTS for a taken name, RESOURCE_EXHAUSTED over the model
// or parameter limit, FAILED_PRECONDITION for a second concurrent training
// run, UNAVAILABLE for training after CancelAllTrainings.
class ModelRegistry {
 public:
  explicit ModelRegistry(RegistryLimits limits);
  ModelRegistry(const ModelRegistry&) = delete;
  ModelRegistry& operator=(const ModelRegistry&) = delete;
  ~ModelRegistry();

  const RegistryLimits& limits() const { return limits_; }

  // Validates name and config (limits first, before anything is allocated),
  // builds the seeded model and publishes it as version 1.
  absl::StatusOr<ModelStatus> Create(absl::string_view name,
                                     const ModelConfig& config);
  // Registers `model` (e.g. imported from a file) under `name` as version 1,
  // UNTRAINED (no Train on this server yet). Validates the name, the
  // model's config against the limits (before anything else), and that its
  // parameters have the shapes its config implies and are finite
  // (INVALID_ARGUMENT naming the layer otherwise). Either the model is
  // registered or nothing changes.
  absl::StatusOr<ModelStatus> Insert(absl::string_view name,
                                     Model<float> model);
  // The latest published version.
  absl::StatusOr<ModelSnapshot> GetSnapshot(absl::string_view name) const;
  absl::StatusOr<ModelStatus> GetStatus(absl::string_view name) const;
  // Every model, sorted by name.
  std::vector<ModelStatus> List() const;
  // Removes the model and cancels its running training, if any. OK(true) if
  // a training run was cancelled.
  absl::StatusOr<bool> Delete(absl::string_view name);

  // Starts the model's only training run. `started_by` (e.g. the peer
  // address) names it in the FAILED_PRECONDITION a second run gets.
  absl::StatusOr<std::unique_ptr<TrainingRun>> StartTraining(
      absl::string_view name, absl::string_view started_by);

  // Server shutdown: cancels every running training (their cancel_status()
  // is UNAVAILABLE saying the server is shutting down) and refuses new ones
  // (UNAVAILABLE). Returns how many runs it cancelled.
  int CancelAllTrainings();

 private:
  absl::StatusOr<std::shared_ptr<ModelEntry>> Find(
      absl::string_view name) const;
  // ALREADY_EXISTS or RESOURCE_EXHAUSTED unless `name` can be added.
  absl::Status CheckRoomLocked(absl::string_view name) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Name and config checks shared by Create and Insert, with a cheap early
  // room check before anything is allocated.
  absl::Status CheckNewModel(absl::string_view name,
                             const ModelConfig& config) const;
  // Adds a validated model as version 1 (ALREADY_EXISTS or
  // RESOURCE_EXHAUSTED if another call took the room meanwhile).
  absl::StatusOr<ModelStatus> AddEntry(absl::string_view name,
                                       Model<float> model);

  const RegistryLimits limits_;
  // Held only to look up, insert or erase map entries (and to read or set
  // shutting_down_), never across model allocation or training. Lock order:
  // mu_ before any ModelEntry::mu.
  mutable AnnotatedMutex mu_;
  absl::btree_map<std::string, std::shared_ptr<ModelEntry>> models_
      ABSL_GUARDED_BY(mu_);
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
};

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

  // Publishes a copy of `model` as the next version (an epoch end) and
  // records `progress`. Returns `progress` with the new version.
  ProgressRecord Publish(const Model<float>& model,
                         const TrainingProgress& progress);
  // Records mid-epoch progress. Returns it with the current version.
  ProgressRecord Report(const TrainingProgress& progress);
  // Ends the run: OK means TRAINED; a cancelled run (cancel_requested(), or
  // a CANCELLED status) TRAINING_CANCELLED; anything else TRAINING_FAILED.
  // A non-OK message becomes last_error. Returns the last progress (empty
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

#endif  // BNMLP_SERVER_MODEL_REGISTRY_H_
