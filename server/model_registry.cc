#include "server/model_registry.h"

#include <algorithm>
#include <atomic>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/status_macros.h"
#include "server/event_log.h"
#include "server/model_entry.h"
#include "server/store/model_record.h"
#include "server/store/model_store.h"
#include "server/training_run.h"

namespace bnmlp {

namespace {

constexpr size_t kMaxNameLength = 64;

bool IsNameCharacter(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' ||
         c == '.' || c == '-';
}

std::string DescribeRunningTraining(const ModelEntry& entry)
    ABSL_SHARED_LOCKS_REQUIRED(entry.mu) {
  std::string where;
  if (entry.last_progress.has_value()) {
    const TrainingProgress& progress = entry.last_progress->progress;
    where = absl::StrFormat(", now at epoch %d of %d", progress.epoch,
                            progress.epochs);
  }
  return absl::StrFormat(
      "model %s is already training (a Train started by %s at %s%s); one "
      "Train per model at a time: wait for it to finish or cancel it",
      QuotedModelName(entry.name), entry.training->started_by,
      absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", entry.training->started_at,
                       absl::UTCTimeZone()),
      where);
}

absl::Status CheckVector(const Vector<float>& v, int64_t size, int layer,
                         absl::string_view part) {
  if (v.size() != size) {
    return absl::InvalidArgumentError(absl::StrCat("layer ", layer, " ", part,
                                                   ": expected ", size,
                                                   " values, got ", v.size()));
  }
  if (!v.allFinite()) {
    return absl::InvalidArgumentError(
        absl::StrCat("layer ", layer, " ", part, ": expected finite values"));
  }
  return absl::OkStatus();
}

// The parameters have the shapes model.config() implies (as Model::Create
// made them) and are finite.
absl::Status ValidateParameters(const Model<float>& model) {
  const ModelConfig& config = model.config();
  const std::vector<int64_t>& sizes = config.layer_sizes;
  if (model.num_layers() + 1 != static_cast<int>(sizes.size())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "expected ", sizes.size() - 1, " layers, got ", model.num_layers()));
  }
  for (int l = 0; l < model.num_layers(); ++l) {
    const LayerParameters<float>& p = model.layer(l);
    const bool output = l + 1 == model.num_layers();
    const int64_t out = sizes[l + 1];
    if (p.weight.rows() != out || p.weight.cols() != sizes[l]) {
      return absl::InvalidArgumentError(absl::StrCat(
          "layer ", l + 1, " weight: expected shape [", out, ", ", sizes[l],
          "], got [", p.weight.rows(), ", ", p.weight.cols(), "]"));
    }
    if (!p.weight.allFinite()) {
      return absl::InvalidArgumentError(
          absl::StrCat("layer ", l + 1, " weight: expected finite values"));
    }
    const bool bias =
        output || config.normalization != Normalization::kPreActivation;
    const bool bn = !output && config.normalization != Normalization::kNone;
    BNMLP_RETURN_IF_ERROR(CheckVector(p.bias, bias ? out : 0, l + 1, "bias"));
    const int64_t bn_size = bn ? out : 0;
    BNMLP_RETURN_IF_ERROR(CheckVector(p.gamma, bn_size, l + 1, "gamma"));
    BNMLP_RETURN_IF_ERROR(CheckVector(p.beta, bn_size, l + 1, "beta"));
    BNMLP_RETURN_IF_ERROR(
        CheckVector(p.running_mean, bn_size, l + 1, "running_mean"));
    BNMLP_RETURN_IF_ERROR(
        CheckVector(p.running_var, bn_size, l + 1, "running_var"));
    if (bn && (p.running_var.array() < 0).any()) {
      return absl::InvalidArgumentError(
          absl::StrCat("layer ", l + 1, " running_var: expected values >= 0"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string QuotedModelName(absl::string_view name) {
  constexpr size_t kShown = 80;
  std::string shown = absl::CHexEscape(name.substr(0, kShown));
  if (name.size() > kShown) absl::StrAppend(&shown, "...");
  return absl::StrCat("'", shown, "'");
}

ModelSnapshot MakeSnapshot(std::shared_ptr<const Model<float>> model,
                           int64_t version) {
  auto inference = std::make_shared<const InferenceModel<float>>(
      InferenceModel<float>::FromModel(*model));
  return {std::move(model), std::move(inference), version, nullptr};
}

ModelSnapshot MakeSnapshot(Model<float> model, int64_t version) {
  return MakeSnapshot(std::make_shared<const Model<float>>(std::move(model)),
                      version);
}

absl::Status ValidateModelName(absl::string_view name) {
  const bool valid = !name.empty() && name.size() <= kMaxNameLength &&
                     absl::ascii_isalnum(static_cast<unsigned char>(name[0])) &&
                     std::all_of(name.begin(), name.end(), IsNameCharacter);
  if (valid) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "name: expected 1-", kMaxNameLength,
      " characters from [A-Za-z0-9_.-] starting with a letter or digit, got ",
      name.empty() ? "an empty name"
                   : absl::StrCat(QuotedModelName(name), " (", name.size(),
                                  " characters)")));
}

ModelRegistry::ModelRegistry(RegistryLimits limits, ModelStore* store,
                             bool read_only)
    : limits_(limits), store_(store), read_only_(read_only) {}

absl::Status ModelRegistry::CheckWritable() const {
  if (!read_only_) return absl::OkStatus();
  return absl::FailedPreconditionError(
      "this replica is read-only (--read_only): it serves the models of its "
      "store; create, train, import, upload and delete on the writer");
}

ModelRegistry::~ModelRegistry() = default;

absl::StatusOr<std::shared_ptr<ModelEntry>> ModelRegistry::Find(
    absl::string_view name) const {
  if (absl::Status status = ValidateModelName(name); !status.ok()) {
    return status;
  }
  ReaderLock lock(&mu_);
  auto it = models_.find(name);
  if (it == models_.end()) {
    return absl::NotFoundError(
        absl::StrCat("model ", QuotedModelName(name), " not found"));
  }
  return it->second;
}

absl::Status ModelRegistry::CheckRoomLocked(absl::string_view name) const {
  if (models_.contains(name)) {
    return absl::AlreadyExistsError(
        absl::StrCat("model ", QuotedModelName(name), " already exists"));
  }
  if (reserved_.contains(name)) {
    return absl::AlreadyExistsError(absl::StrCat(
        "model ", QuotedModelName(name),
        " is being created or deleted by another call; try again"));
  }
  if (models_.size() + reserved_.size() >=
      static_cast<size_t>(limits_.max_models)) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the server already holds ", models_.size(),
                     " models, its limit (--max_models); delete one first"));
  }
  return absl::OkStatus();
}

int64_t ModelMemoryBytes(const ModelConfig& config) {
  return 4 * CountParameters(config.layer_sizes, config.normalization) *
         static_cast<int64_t>(sizeof(float));
}

absl::StatusOr<MemoryBudget::Reservation> ModelRegistry::AdmitNewModel(
    absl::string_view name, const ModelConfig& config) const {
  BNMLP_RETURN_IF_ERROR(ValidateModelName(name));
  BNMLP_RETURN_IF_ERROR(ValidateModelConfig(config, limits_.max_parameters));
  {
    // A cheap early answer before any allocation; checked again on insert,
    // since another call may win meanwhile.
    ReaderLock lock(&mu_);
    BNMLP_RETURN_IF_ERROR(CheckRoomLocked(name));
  }
  if (limits_.memory == nullptr) return MemoryBudget::Reservation();
  // With the fold's transient memory, given back once the model is folded.
  return limits_.memory->Reserve(
      ModelMemoryBytes(config) +
          InferenceModel<float>::FoldTransientBytes(
              CountParameters(config.layer_sizes, config.normalization)),
      absl::StrCat("model ", QuotedModelName(name),
                   " (parameters, their folded form "
                   "and optimizer state)"));
}

absl::StatusOr<ModelStatus> ModelRegistry::AddEntry(
    absl::string_view name, Model<float> model,
    MemoryBudget::Reservation memory,
    std::shared_ptr<const TrainingCheckpoint<float>> checkpoint) {
  const ModelConfig config = model.config();
  ModelSnapshot first = MakeSnapshot(std::move(model), 1);
  memory.Shrink(InferenceModel<float>::FoldTransientBytes(
      CountParameters(config.layer_sizes, config.normalization)));
  first.checkpoint = std::move(checkpoint);
  std::shared_ptr<StoredModel> files;
  if (store_ != nullptr) {
    // The name is reserved while the first version is written (outside
    // mu_), so no other call can create or write the same directory.
    {
      WriterLock lock(&mu_);
      BNMLP_RETURN_IF_ERROR(CheckRoomLocked(name));
      reserved_.insert(std::string(name));
    }
    ModelVersion version{std::string(name), 1, first.model, first.checkpoint,
                         std::nullopt};
    absl::StatusOr<std::shared_ptr<StoredModel>> created =
        store_->CreateModel(version);
    WriterLock lock(&mu_);
    reserved_.erase(std::string(name));
    if (!created.ok()) {
      return absl::Status(
          created.status().code(),
          absl::StrCat("model ", QuotedModelName(name),
                       " was not created: the model store cannot write it: ",
                       created.status().message()));
    }
    files = *std::move(created);
  }
  auto entry = std::make_shared<ModelEntry>(
      std::string(name), config,
      CountParameters(config.layer_sizes, config.normalization),
      std::move(first), std::move(files));
  entry->memory = std::move(memory);
  WriterLock lock(&mu_);
  if (store_ == nullptr) BNMLP_RETURN_IF_ERROR(CheckRoomLocked(name));
  models_.emplace(std::string(name), entry);
  ReaderLock entry_lock(&entry->mu);
  return entry->StatusLocked();
}

absl::StatusOr<ModelStatus> ModelRegistry::Create(absl::string_view name,
                                                  const ModelConfig& config) {
  BNMLP_RETURN_IF_ERROR(CheckWritable());
  BNMLP_ASSIGN_OR_RETURN(MemoryBudget::Reservation memory,
                         AdmitNewModel(name, config));
  BNMLP_ASSIGN_OR_RETURN(Model<float> model, Model<float>::Create(config));
  return AddEntry(name, std::move(model), std::move(memory));
}

absl::StatusOr<ModelStatus> ModelRegistry::Insert(absl::string_view name,
                                                  Model<float> model) {
  BNMLP_RETURN_IF_ERROR(CheckWritable());
  BNMLP_ASSIGN_OR_RETURN(MemoryBudget::Reservation memory,
                         AdmitNewModel(name, model.config()));
  BNMLP_RETURN_IF_ERROR(ValidateParameters(model));
  return AddEntry(name, std::move(model), std::move(memory));
}

absl::StatusOr<ModelStatus> ModelRegistry::InsertVersion(
    absl::string_view name, const ModelVersion& version) {
  BNMLP_RETURN_IF_ERROR(CheckWritable());
  BNMLP_ASSIGN_OR_RETURN(MemoryBudget::Reservation memory,
                         AdmitNewModel(name, version.model->config()));
  BNMLP_RETURN_IF_ERROR(ValidateParameters(*version.model));
  return AddEntry(name, *version.model, std::move(memory), version.checkpoint);
}

absl::StatusOr<ModelSnapshot> ModelRegistry::GetSnapshot(
    absl::string_view name, int64_t version) const {
  if (version < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "version: expected 0 (the latest) or a retained version, got ",
        version));
  }
  BNMLP_ASSIGN_OR_RETURN(std::shared_ptr<ModelEntry> entry, Find(name));
  ModelSnapshot latest;
  {
    ReaderLock lock(&entry->mu);
    latest = entry->published;
  }
  if (version == 0 || version == latest.version) return latest;
  if (entry->files == nullptr) {
    return absl::NotFoundError(absl::StrCat(
        "version: model ", QuotedModelName(name), " version ", version,
        " is not retained; retained versions: ", latest.version,
        " (older versions are retained with a model store, --model_dir)"));
  }
  return ReadRetainedVersion(*entry, version);
}

absl::StatusOr<ModelSnapshot> ModelRegistry::GetSnapshot(
    absl::string_view name) const {
  absl::StatusOr<std::shared_ptr<ModelEntry>> entry = Find(name);
  if (!entry.ok()) return entry.status();
  ReaderLock lock(&(*entry)->mu);
  return (*entry)->published;
}

absl::StatusOr<ModelStatus> ModelRegistry::GetStatus(
    absl::string_view name) const {
  absl::StatusOr<std::shared_ptr<ModelEntry>> entry = Find(name);
  if (!entry.ok()) return entry.status();
  ReaderLock lock(&(*entry)->mu);
  return (*entry)->StatusLocked();
}

std::vector<ModelStatus> ModelRegistry::List() const {
  std::vector<std::shared_ptr<ModelEntry>> entries;
  {
    ReaderLock lock(&mu_);
    entries.reserve(models_.size());
    for (const auto& [name, entry] : models_) entries.push_back(entry);
  }
  std::vector<ModelStatus> statuses;
  statuses.reserve(entries.size());
  for (const std::shared_ptr<ModelEntry>& entry : entries) {
    ReaderLock lock(&entry->mu);
    statuses.push_back(entry->StatusLocked());
  }
  return statuses;
}

absl::StatusOr<bool> ModelRegistry::Delete(absl::string_view name) {
  if (absl::Status status = ValidateModelName(name); !status.ok()) {
    return status;
  }
  BNMLP_RETURN_IF_ERROR(CheckWritable());
  std::shared_ptr<ModelEntry> entry;
  {
    WriterLock lock(&mu_);
    auto it = models_.find(name);
    if (it == models_.end()) {
      return absl::NotFoundError(
          absl::StrCat("model ", QuotedModelName(name), " not found"));
    }
    entry = it->second;
    if (entry->files == nullptr) {
      models_.erase(it);
    } else {
      // The name stays taken until the files are gone.
      if (!reserved_.insert(std::string(name)).second) {
        return absl::NotFoundError(
            absl::StrCat("model ", QuotedModelName(name), " is being deleted"));
      }
    }
  }
  if (entry->files != nullptr) {
    const absl::Status removed = store_->DeleteModel(*entry->files);
    WriterLock lock(&mu_);
    reserved_.erase(std::string(name));
    if (!removed.ok()) {
      return absl::Status(
          removed.code(),
          absl::StrCat("model ", QuotedModelName(name),
                       " was not deleted: ", removed.message()));
    }
    models_.erase(std::string(name));
  }
  {
    WriterLock lock(&cache_mu_);
    cache_.erase(std::remove_if(
                     cache_.begin(), cache_.end(),
                     [&](const auto& cached) { return cached.first == name; }),
                 cache_.end());
  }
  WriterLock lock(&entry->mu);
  entry->deleted = true;
  if (entry->training == nullptr) return false;
  entry->training->Cancel(absl::CancelledError(
      absl::StrCat("model ", QuotedModelName(entry->name), " was deleted")));
  return true;
}

absl::StatusOr<std::unique_ptr<TrainingRun>> ModelRegistry::StartTraining(
    absl::string_view name, absl::string_view started_by) {
  BNMLP_RETURN_IF_ERROR(CheckWritable());
  absl::StatusOr<std::shared_ptr<ModelEntry>> found = Find(name);
  if (!found.ok()) return found.status();
  {
    ReaderLock lock(&mu_);
    if (shutting_down_) {
      return absl::UnavailableError(
          "the server is shutting down and accepts no new training");
    }
  }
  std::shared_ptr<ModelEntry> entry = *std::move(found);
  auto control =
      std::make_shared<TrainingControl>(std::string(started_by), absl::Now());
  ModelSnapshot start;
  {
    WriterLock lock(&entry->mu);
    if (entry->deleted) {
      return absl::NotFoundError(
          absl::StrCat("model ", QuotedModelName(name), " was deleted"));
    }
    if (entry->training != nullptr) {
      return absl::FailedPreconditionError(DescribeRunningTraining(*entry));
    }
    entry->training = control;
    entry->state = TrainingState::kTraining;
    entry->last_progress.reset();
    entry->last_error.clear();
    start = entry->published;
  }
  if (entry->files != nullptr) {
    // A restart that finds this state says the run was interrupted.
    StoredTrainingState training;
    training.state = TrainingState::kTraining;
    if (absl::Status written = entry->files->WriteTrainingState(training);
        !written.ok()) {
      TrainingRun refused(entry, control, start);
      refused.Finish(written);
      return absl::Status(
          written.code(),
          absl::StrCat("training of model ", QuotedModelName(name),
                       " did not start: the model store cannot write: ",
                       written.message()));
    }
  }
  return std::unique_ptr<TrainingRun>(
      new TrainingRun(std::move(entry), std::move(control), std::move(start)));
}

int ModelRegistry::CancelAllTrainings() {
  std::vector<std::shared_ptr<ModelEntry>> entries;
  {
    WriterLock lock(&mu_);
    shutting_down_ = true;
    for (const auto& [name, entry] : models_) entries.push_back(entry);
  }
  int cancelled = 0;
  for (const std::shared_ptr<ModelEntry>& entry : entries) {
    WriterLock lock(&entry->mu);
    if (entry->training != nullptr) {
      entry->training->Cancel(
          absl::UnavailableError("the server is shutting down"));
      ++cancelled;
    }
  }
  return cancelled;
}

}  // namespace bnmlp
