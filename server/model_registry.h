// The server's in-memory models: named entries that publish immutable,
// versioned snapshots, with at most one training run per model.
#ifndef BNMLP_SERVER_MODEL_REGISTRY_H_
#define BNMLP_SERVER_MODEL_REGISTRY_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/annotated_mutex.h"
#include "core/inference_model.h"
#include "core/model.h"
#include "core/model_config.h"
#include "core/trainer.h"
#include "server/memory_budget.h"
#include "server/training_state.h"

namespace bnmlp {

// A published model and its version. The model is immutable and stays alive
// as long as someone holds the snapshot, even after a newer version or a
// DeleteModel.
struct ModelSnapshot {
  std::shared_ptr<const Model<float>> model;
  // The same version in evaluation form (BatchNorm folded), built once when
  // the version is published: what Predict runs.
  std::shared_ptr<const InferenceModel<float>> inference;
  int64_t version = 0;
  // What resuming training from this version needs; null if the version
  // did not come from training here (created, imported from ONNX).
  std::shared_ptr<const TrainingCheckpoint<float>> checkpoint;
};

// Publishes `model` as `version`: the snapshot owns it and its inference
// form.
ModelSnapshot MakeSnapshot(Model<float> model, int64_t version);
ModelSnapshot MakeSnapshot(std::shared_ptr<const Model<float>> model,
                           int64_t version);

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
  // The versions a pinned Predict / GetParameters / Export can ask for,
  // oldest first, and the newest durable one (0 without a store).
  std::vector<int64_t> retained_versions;
  int64_t durable_version = 0;
};

struct RegistryLimits {
  int max_models = 64;
  // Per model; ValidateModelConfig's limit.
  int64_t max_parameters = int64_t{16} << 20;
  // The process's memory budget (--max_memory_bytes) that every model
  // reserves ModelMemoryBytes from while it is held. Null: not counted.
  std::shared_ptr<MemoryBudget> memory;
};

// What a model of `config` may hold in memory while it is registered: its
// parameters, their folded (Predict) form and the optimizer state kept to
// resume training (two buffers, Adam's), 4 bytes a value.
int64_t ModelMemoryBytes(const ModelConfig& config);

// OK if `name` has 1-64 characters from [A-Za-z0-9_.-] and starts with a
// letter or digit; otherwise INVALID_ARGUMENT naming the field `name`.
absl::Status ValidateModelName(absl::string_view name);

class TrainingRun;       // server/training_run.h
class ModelStore;        // server/store/model_store.h
struct ModelEntry;       // server/model_entry.h
struct TrainingControl;  // server/model_entry.h
struct ModelVersion;     // server/store/model_record.h

// Thread-safe. Every method returns after holding locks only for map and
// field updates: no lock is held while a model is allocated, copied or
// trained, so Predict (GetSnapshot) never waits for training.
//
// Errors: INVALID_ARGUMENT for a bad name or config, NOT_FOUND for an unknown
// model, ALREADY_EXISTS for a taken name, RESOURCE_EXHAUSTED over the model
// or parameter limit, FAILED_PRECONDITION for a second concurrent training
// run, UNAVAILABLE for training after CancelAllTrainings.
//
// With a store (server/store/model_store.h), the durability contract of the
// .proto: Create and Insert return once the model's first version is on
// disk (and a model that cannot be written is not created); every epoch's
// version is written in the background; a run's final status (Finish)
// comes after its last version is durable. A read-only registry (a serving
// replica) refuses every write with FAILED_PRECONDITION and follows the
// store through SyncFromStore.
class ModelRegistry {
 public:
  explicit ModelRegistry(RegistryLimits limits, ModelStore* store = nullptr,
                         bool read_only = false);
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
  // Insert with the training state of a native file (training can resume
  // from it); the file's own name and version number are not used.
  absl::StatusOr<ModelStatus> InsertVersion(absl::string_view name,
                                            const ModelVersion& version);
  // The latest published version.
  absl::StatusOr<ModelSnapshot> GetSnapshot(absl::string_view name) const;
  // `version` 0 or the latest: the latest; another retained version is
  // read from the store (and cached, a few at a time). NOT_FOUND naming the
  // retained versions otherwise.
  absl::StatusOr<ModelSnapshot> GetSnapshot(absl::string_view name,
                                            int64_t version) const;
  // A native file (server/store/model_record.h) of `version` (0: the
  // latest): the stored file's bytes when the store holds it, the same
  // encoding from memory otherwise. Errors as GetSnapshot.
  absl::StatusOr<std::string> ExportVersionFile(absl::string_view name,
                                                int64_t version) const;
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

  // Startup with a store: registers every model's newest valid version
  // (server/store/model_store.h says what happens to damaged files).
  // Returns how many models were loaded.
  int LoadFromStore();
  // Read-only replicas, every poll: adds models that appeared in the store,
  // swaps in newer versions, drops deleted models. Each swap is atomic for
  // readers (a snapshot is replaced whole).
  void SyncFromStore();
  bool read_only() const { return read_only_; }
  // FAILED_PRECONDITION on a read-only replica: every write (models, and
  // datasets, which only the writer trains from) is the writer's.
  absl::Status CheckWritable() const;

 private:
  // The store half (model_registry_store.cc).
  std::shared_ptr<ModelEntry> EntryFromStore(const std::string& name);
  absl::StatusOr<ModelSnapshot> ReadRetainedVersion(const ModelEntry& entry,
                                                    int64_t version) const;
  absl::StatusOr<std::shared_ptr<ModelEntry>> Find(
      absl::string_view name) const;
  // ALREADY_EXISTS or RESOURCE_EXHAUSTED unless `name` can be added.
  absl::Status CheckRoomLocked(absl::string_view name) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Name and config checks shared by Create and Insert, with a cheap early
  // room check, then the model's memory reserved (RESOURCE_EXHAUSTED with
  // the figures), all before anything is allocated.
  absl::StatusOr<MemoryBudget::Reservation> AdmitNewModel(
      absl::string_view name, const ModelConfig& config) const;
  // Adds a validated model as version 1 (ALREADY_EXISTS or
  // RESOURCE_EXHAUSTED if another call took the room meanwhile); `memory`
  // is held by its entry.
  absl::StatusOr<ModelStatus> AddEntry(
      absl::string_view name, Model<float> model,
      MemoryBudget::Reservation memory,
      std::shared_ptr<const TrainingCheckpoint<float>> checkpoint = nullptr);

  const RegistryLimits limits_;
  ModelStore* const store_;  // may be null; not owned
  const bool read_only_;
  // Held only to look up, insert or erase map entries (and to read or set
  // shutting_down_), never across model allocation or training. Lock order:
  // mu_ before any ModelEntry::mu.
  mutable AnnotatedMutex mu_;
  absl::btree_map<std::string, std::shared_ptr<ModelEntry>> models_
      ABSL_GUARDED_BY(mu_);
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  // Names being created or deleted on disk (the disk work happens outside
  // mu_): taken, and counted against max_models.
  absl::btree_set<std::string> reserved_ ABSL_GUARDED_BY(mu_);

  // Pinned versions read from the store, newest use last; at most
  // kCachedVersions. Held only to look up, insert or drop an entry.
  static constexpr size_t kCachedVersions = 4;
  mutable AnnotatedMutex cache_mu_;
  mutable std::vector<std::pair<std::string, ModelSnapshot>> cache_
      ABSL_GUARDED_BY(cache_mu_);
};

}  // namespace bnmlp

#endif  // BNMLP_SERVER_MODEL_REGISTRY_H_
