// The registry's per-model state, shared by model_registry.cc,
// model_registry_store.cc (the store half) and training_run.cc. Internal to
// the registry.
#ifndef BNMLP_SERVER_MODEL_ENTRY_H_
#define BNMLP_SERVER_MODEL_ENTRY_H_

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/annotated_mutex.h"
#include "server/model_registry.h"
#include "server/store/model_store.h"

namespace bnmlp {

// `name` as a message shows it: quoted, escaped, at most 80 characters.
std::string QuotedModelName(absl::string_view name);

// A running training's cancellation switch, shared by the model entry (so
// DeleteModel and shutdown can flip it) and the TrainingRun (which polls it
// between batches).
struct TrainingControl {
  TrainingControl(std::string started_by, absl::Time started_at)
      : started_by(std::move(started_by)), started_at(started_at) {}

  // The first cause wins.
  void Cancel(absl::Status why) {
    {
      WriterLock lock(&mu);
      if (cause.ok()) cause = std::move(why);
    }
    cancelled.store(true, std::memory_order_release);
  }

  const std::string started_by;
  const absl::Time started_at;
  std::atomic<bool> cancelled{false};
  // Held only to read or set `cause`.
  mutable AnnotatedMutex mu;
  absl::Status cause ABSL_GUARDED_BY(mu);
};

struct ModelEntry {
  ModelEntry(std::string name, ModelConfig config, int64_t parameter_count,
             ModelSnapshot first, std::shared_ptr<StoredModel> files)
      : name(std::move(name)),
        config(std::move(config)),
        parameter_count(parameter_count),
        files(std::move(files)),
        published(std::move(first)) {}

  // Snapshot of the mutable fields; requires `mu`. Without a store the
  // latest version is the only one retained, and none is durable.
  ModelStatus StatusLocked() const ABSL_SHARED_LOCKS_REQUIRED(mu) {
    ModelStatus status{name,  config,        parameter_count, published.version,
                       state, last_progress, last_error,      {},
                       0};
    if (files != nullptr) {
      status.retained_versions = files->RetainedVersions();
      status.durable_version = files->durable_version();
    } else {
      status.retained_versions = {published.version};
    }
    return status;
  }

  const std::string name;
  const ModelConfig config;
  const int64_t parameter_count;
  // The model's files in the store; null without one.
  const std::shared_ptr<StoredModel> files;
  // ModelMemoryBytes from the process's budget, given back when the last
  // holder (the registry, a running Train) lets go. Set before the entry is
  // shared, never after.
  MemoryBudget::Reservation memory;

  // Held only to copy or replace the fields below (a shared_ptr, scalars,
  // short strings): never while a model is copied, trained or evaluated.
  mutable AnnotatedMutex mu;
  ModelSnapshot published ABSL_GUARDED_BY(mu);
  TrainingState state ABSL_GUARDED_BY(mu) = TrainingState::kUntrained;
  std::optional<ProgressRecord> last_progress ABSL_GUARDED_BY(mu);
  std::string last_error ABSL_GUARDED_BY(mu);
  // Non-null while a TrainingRun is active.
  std::shared_ptr<TrainingControl> training ABSL_GUARDED_BY(mu);
  bool deleted ABSL_GUARDED_BY(mu) = false;
};

}  // namespace bnmlp

#endif  // BNMLP_SERVER_MODEL_ENTRY_H_
