// ModelRegistry's half that reads the model store: loading at startup,
// following the writer on read-only replicas, pinned versions.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "server/event_log.h"
#include "server/model_entry.h"
#include "server/model_registry.h"
#include "server/store/durable_file.h"
#include "server/store/model_record.h"
#include "server/store/model_store.h"

namespace bnmlp {

std::shared_ptr<ModelEntry> ModelRegistry::EntryFromStore(
    const std::string& name) {
  absl::StatusOr<LoadedModel> loaded = store_->LoadModel(name);
  if (!loaded.ok()) {
    LogEvent(LogLevel::kError,
             absl::StrCat("event=store_model_not_loaded model=", name,
                          " reason=\"", loaded.status().message(), "\""));
    return nullptr;
  }
  ModelVersion& newest = loaded->newest;
  const ModelConfig config = newest.model->config();
  if (absl::Status fits = ValidateModelConfig(config, limits_.max_parameters);
      !fits.ok()) {
    LogEvent(LogLevel::kError,
             absl::StrCat("event=store_model_not_loaded model=", name,
                          " reason=\"", fits.message(), "\""));
    return nullptr;
  }
  MemoryBudget::Reservation memory;
  if (limits_.memory != nullptr) {
    absl::StatusOr<MemoryBudget::Reservation> reserved =
        limits_.memory->Reserve(ModelMemoryBytes(config),
                                absl::StrCat("model ", name));
    if (!reserved.ok()) {
      LogEvent(LogLevel::kError,
               absl::StrCat("event=store_model_not_loaded model=", name,
                            " reason=\"", reserved.status().message(), "\""));
      return nullptr;
    }
    memory = *std::move(reserved);
  }
  ModelSnapshot snapshot = MakeSnapshot(newest.model, newest.version);
  snapshot.checkpoint = newest.checkpoint;
  auto entry = std::make_shared<ModelEntry>(
      name, config, CountParameters(config.layer_sizes, config.normalization),
      std::move(snapshot), loaded->files);
  entry->memory = std::move(memory);
  WriterLock lock(&entry->mu);
  entry->state = loaded->state.state;
  entry->last_error = loaded->state.last_error;
  if (loaded->state.last_progress.has_value()) {
    entry->last_progress =
        ProgressRecord{*loaded->state.last_progress, newest.version};
  }
  return entry;
}

int ModelRegistry::LoadFromStore() {
  if (store_ == nullptr) return 0;
  int loaded = 0;
  for (const std::string& name : store_->ListModelNames()) {
    if (!ValidateModelName(name).ok()) continue;
    std::shared_ptr<ModelEntry> entry = EntryFromStore(name);
    if (entry == nullptr) continue;
    WriterLock lock(&mu_);
    if (models_.size() >= static_cast<size_t>(limits_.max_models)) {
      LogEvent(LogLevel::kError,
               absl::StrCat("event=store_model_not_loaded model=", name,
                            " reason=\"over --max_models (", limits_.max_models,
                            ")\""));
      continue;
    }
    models_.emplace(name, std::move(entry));
    ++loaded;
  }
  return loaded;
}

void ModelRegistry::SyncFromStore() {
  if (store_ == nullptr) return;
  const std::vector<std::string> names = store_->ListModelNames();
  std::vector<std::pair<std::string, std::shared_ptr<ModelEntry>>> current;
  {
    ReaderLock lock(&mu_);
    for (const auto& [name, entry] : models_) current.emplace_back(name, entry);
  }
  // Deleted on the writer: gone from the store's listing.
  for (const auto& [name, entry] : current) {
    if (std::binary_search(names.begin(), names.end(), name)) continue;
    WriterLock lock(&mu_);
    auto it = models_.find(name);
    if (it != models_.end() && it->second == entry) models_.erase(it);
    LogEvent(absl::StrCat("event=replica_model_removed model=", name));
  }
  for (const std::string& name : names) {
    if (!ValidateModelName(name).ok()) continue;
    std::shared_ptr<ModelEntry> existing;
    {
      ReaderLock lock(&mu_);
      auto it = models_.find(name);
      if (it != models_.end()) existing = it->second;
    }
    if (existing != nullptr) {
      existing->files->Refresh().IgnoreError();
      int64_t published = 0;
      {
        ReaderLock lock(&existing->mu);
        published = existing->published.version;
      }
      const int64_t durable = existing->files->durable_version();
      if (durable == published || durable == 0) continue;
    }
    // New, or a new version: load it whole, then swap the entry in.
    std::shared_ptr<ModelEntry> entry = EntryFromStore(name);
    if (entry == nullptr) continue;
    int64_t version = 0;
    {
      ReaderLock lock(&entry->mu);
      version = entry->published.version;
    }
    WriterLock lock(&mu_);
    models_[name] = std::move(entry);
    LogEvent(absl::StrCat("event=replica_model_loaded model=", name,
                          " version=", version));
  }
}

absl::StatusOr<ModelSnapshot> ModelRegistry::ReadRetainedVersion(
    const ModelEntry& entry, int64_t version) const {
  {
    WriterLock lock(&cache_mu_);
    for (auto it = cache_.begin(); it != cache_.end(); ++it) {
      if (it->first == entry.name && it->second.version == version) {
        ModelSnapshot hit = it->second;
        // Most recently used last.
        std::rotate(it, it + 1, cache_.end());
        return hit;
      }
    }
  }
  BNMLP_ASSIGN_OR_RETURN(ModelVersion read, entry.files->ReadVersion(version));
  ModelSnapshot snapshot = MakeSnapshot(read.model, read.version);
  snapshot.checkpoint = read.checkpoint;
  WriterLock lock(&cache_mu_);
  if (cache_.size() >= kCachedVersions) cache_.erase(cache_.begin());
  cache_.emplace_back(entry.name, snapshot);
  return snapshot;
}

absl::StatusOr<std::string> ModelRegistry::ExportVersionFile(
    absl::string_view name, int64_t version) const {
  BNMLP_ASSIGN_OR_RETURN(ModelSnapshot snapshot, GetSnapshot(name, version));
  BNMLP_ASSIGN_OR_RETURN(std::shared_ptr<ModelEntry> entry, Find(name));
  if (entry->files != nullptr) {
    absl::StatusOr<std::string> payload =
        entry->files->ReadVersionPayload(snapshot.version);
    if (payload.ok()) {
      return FrameInMemory(kModelVersionMagic, kModelVersionFormat, *payload);
    }
    // Not on disk (yet, or any more): encoded from memory below.
  }
  return EncodeModelVersionFile(
      ModelVersion{std::string(name), snapshot.version, snapshot.model,
                   snapshot.checkpoint, std::nullopt});
}

}  // namespace bnmlp
