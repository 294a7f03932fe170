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

namespace bnmlp {

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
             ModelSnapshot first)
      : name(std::move(name)),
        config(std::move(config)),
        parameter_count(parameter_count),
        published(std::move(first)) {}

  // Snapshot of the mutable fields; requires `mu`.
  ModelStatus StatusLocked() const ABSL_SHARED_LOCKS_REQUIRED(mu) {
    return {name,  config,        parameter_count, published.version,
            state, last_progress, last_error};
  }

  const std::string name;
  const ModelConfig config;
  const int64_t parameter_count;

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

namespace {

constexpr size_t kMaxNameLength = 64;

bool IsNameCharacter(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' ||
         c == '.' || c == '-';
}

// The name as it may appear in a message: escaped and bounded.
std::string Quoted(absl::string_view name) {
  constexpr size_t kShown = 80;
  std::string shown = absl::CHexEscape(name.substr(0, kShown));
  if (name.size() > kShown) absl::StrAppend(&shown, "...");
  return absl::StrCat("'", shown, "'");
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
      Quoted(entry.name), entry.training->started_by,
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

ModelSnapshot MakeSnapshot(Model<float> model, int64_t version) {
  auto inference = std::make_shared<const InferenceModel<float>>(
      InferenceModel<float>::FromModel(model));
  return {std::make_shared<const Model<float>>(std::move(model)),
          std::move(inference), version};
}

absl::Status ValidateModelName(absl::string_view name) {
  const bool valid = !name.empty() && name.size() <= kMaxNameLength &&
                     absl::ascii_isalnum(static_cast<unsigned char>(name[0])) &&
                     std::all_of(name.begin(), name.end(), IsNameCharacter);
  if (valid) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "name: expected 1-", kMaxNameLength,
      " characters from [A-Za-z0-9_.-] starting with a letter or digit, got ",
      name.empty()
          ? "an empty name"
          : absl::StrCat(Quoted(name), " (", name.size(), " characters)")));
}

ModelRegistry::ModelRegistry(RegistryLimits limits) : limits_(limits) {}

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
        absl::StrCat("model ", Quoted(name), " not found"));
  }
  return it->second;
}

absl::Status ModelRegistry::CheckRoomLocked(absl::string_view name) const {
  if (models_.contains(name)) {
    return absl::AlreadyExistsError(
        absl::StrCat("model ", Quoted(name), " already exists"));
  }
  if (models_.size() >= static_cast<size_t>(limits_.max_models)) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the server already holds ", models_.size(),
                     " models, its limit (--max_models); delete one first"));
  }
  return absl::OkStatus();
}

absl::Status ModelRegistry::CheckNewModel(absl::string_view name,
                                          const ModelConfig& config) const {
  BNMLP_RETURN_IF_ERROR(ValidateModelName(name));
  BNMLP_RETURN_IF_ERROR(ValidateModelConfig(config, limits_.max_parameters));
  // A cheap early answer before any allocation; checked again on insert,
  // since another call may win meanwhile.
  ReaderLock lock(&mu_);
  return CheckRoomLocked(name);
}

absl::StatusOr<ModelStatus> ModelRegistry::AddEntry(absl::string_view name,
                                                    Model<float> model) {
  const ModelConfig config = model.config();
  auto entry = std::make_shared<ModelEntry>(
      std::string(name), config,
      CountParameters(config.layer_sizes, config.normalization),
      MakeSnapshot(std::move(model), 1));
  WriterLock lock(&mu_);
  BNMLP_RETURN_IF_ERROR(CheckRoomLocked(name));
  models_.emplace(std::string(name), entry);
  ReaderLock entry_lock(&entry->mu);
  return entry->StatusLocked();
}

absl::StatusOr<ModelStatus> ModelRegistry::Create(absl::string_view name,
                                                  const ModelConfig& config) {
  BNMLP_RETURN_IF_ERROR(CheckNewModel(name, config));
  BNMLP_ASSIGN_OR_RETURN(Model<float> model, Model<float>::Create(config));
  return AddEntry(name, std::move(model));
}

absl::StatusOr<ModelStatus> ModelRegistry::Insert(absl::string_view name,
                                                  Model<float> model) {
  BNMLP_RETURN_IF_ERROR(CheckNewModel(name, model.config()));
  BNMLP_RETURN_IF_ERROR(ValidateParameters(model));
  return AddEntry(name, std::move(model));
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
  std::shared_ptr<ModelEntry> entry;
  {
    WriterLock lock(&mu_);
    auto it = models_.find(name);
    if (it == models_.end()) {
      return absl::NotFoundError(
          absl::StrCat("model ", Quoted(name), " not found"));
    }
    entry = std::move(it->second);
    models_.erase(it);
  }
  WriterLock lock(&entry->mu);
  entry->deleted = true;
  if (entry->training == nullptr) return false;
  entry->training->Cancel(absl::CancelledError(
      absl::StrCat("model ", Quoted(entry->name), " was deleted")));
  return true;
}

absl::StatusOr<std::unique_ptr<TrainingRun>> ModelRegistry::StartTraining(
    absl::string_view name, absl::string_view started_by) {
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
          absl::StrCat("model ", Quoted(name), " was deleted"));
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

ProgressRecord TrainingRun::Publish(const Model<float>& model,
                                    const TrainingProgress& progress) {
  // The copy and the fold happen before the lock (the version is set under
  // it); the replaced snapshot is released after it, when `replaced` goes
  // out of scope.
  ModelSnapshot replaced;
  ModelSnapshot next = MakeSnapshot(model, /*version=*/0);
  WriterLock lock(&entry_->mu);
  replaced = std::move(entry_->published);
  next.version = replaced.version + 1;
  entry_->published = std::move(next);
  entry_->last_progress = ProgressRecord{progress, entry_->published.version};
  return *entry_->last_progress;
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
  }
  if (entry_->training == control_) entry_->training.reset();
  ProgressRecord last = entry_->last_progress.value_or(ProgressRecord{});
  last.version = entry_->published.version;
  return last;
}

}  // namespace bnmlp
