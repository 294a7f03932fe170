#include "server/store/model_store.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/status_macros.h"
#include "server/event_log.h"
#include "server/model_files.h"
#include "server/store/durable_file.h"
#include "server/store/store_lock.h"

namespace bnmlp {

// The store's one writer thread: runs the models' queued writes in turn.
class BackgroundVersionWriter {
 public:
  BackgroundVersionWriter() : thread_([this] { Run(); }) {}
  ~BackgroundVersionWriter() { Stop(); }

  // Queues `model`, whose queued_ holds a version (scheduled_ is set).
  // Once the writer has stopped, the write runs on the caller's thread, so
  // no Flush can wait for a thread that is gone.
  void Schedule(std::shared_ptr<StoredModel> model) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!stopped_) {
        queue_.push_back(std::move(model));
        changed_.notify_one();
        return;
      }
    }
    model->WriteQueued();
  }
  // Writes what is queued, then ends the thread. Idempotent.
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    changed_.notify_one();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Run() {
    while (true) {
      std::shared_ptr<StoredModel> model;
      {
        std::unique_lock<std::mutex> lock(mu_);
        changed_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) {  // stopping, and nothing left
          stopped_ = true;
          return;
        }
        model = std::move(queue_.front());
        queue_.pop_front();
      }
      model->WriteQueued();
    }
  }

  std::mutex mu_;  // held only to push or pop the queue
  std::condition_variable changed_;
  std::deque<std::shared_ptr<StoredModel>> queue_;  // guarded by mu_
  bool stopping_ = false;                           // guarded by mu_
  bool stopped_ = false;  // the thread has ended; guarded by mu_
  std::thread thread_;
};

namespace {

constexpr absl::string_view kVersionSuffix = ".bnmlp";
constexpr absl::string_view kStateFile = "STATE";
constexpr absl::string_view kTombstonePrefix = ".deleted.";
constexpr absl::string_view kAsidePrefix = ".aside.";

absl::Status ErrnoError(absl::string_view what, const std::string& path) {
  const int error = errno;
  return absl::ErrnoToStatus(error, absl::StrCat(what, " ", path));
}

std::string Micros() { return absl::StrCat(absl::ToUnixMicros(absl::Now())); }

std::vector<std::string> ListDirectory(const std::string& directory) {
  std::vector<std::string> names;
  DIR* dir = opendir(directory.c_str());
  if (dir == nullptr) return names;
  while (dirent* entry = readdir(dir)) {
    const std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

void RemoveTree(const std::string& path) {
  std::error_code error;
  std::filesystem::remove_all(path, error);
  if (error) {
    LogEvent(LogLevel::kWarning,
             absl::StrCat("event=store_remove_failed path=", path, " reason=\"",
                          error.message(), "\""));
  }
}

// Keeps a damaged file for inspection under a name no scan reads again.
void MoveAside(const std::string& path, const absl::Status& why,
               bool read_only) {
  if (read_only) {
    LogEvent(LogLevel::kError,
             absl::StrCat("event=store_bad_file path=", path, " reason=\"",
                          why.message(), "\" action=skipped"));
    return;
  }
  const std::string aside = absl::StrCat(path, ".corrupt-", Micros());
  const absl::Status moved = RenameDurably(path, aside);
  LogEvent(
      LogLevel::kError,
      absl::StrCat("event=store_bad_file path=", path, " reason=\"",
                   why.message(), "\" action=",
                   moved.ok() ? absl::StrCat("moved_aside to=", aside)
                              : absl::StrCat("kept (", moved.message(), ")")));
}

}  // namespace

std::vector<int64_t> ListVersionFiles(const std::string& directory) {
  std::vector<int64_t> versions;
  for (const std::string& name : ListDirectory(directory)) {
    if (name.size() < 2 || name[0] != 'v' ||
        !absl::EndsWith(name, kVersionSuffix)) {
      continue;
    }
    int64_t version = 0;
    const absl::string_view digits = absl::string_view(name).substr(
        1, name.size() - 1 - kVersionSuffix.size());
    if (absl::SimpleAtoi(digits, &version) && version > 0) {
      versions.push_back(version);
    }
  }
  std::sort(versions.begin(), versions.end());
  return versions;
}

StoredModel::StoredModel(std::string name, std::string directory,
                         const ModelStoreOptions& options,
                         std::shared_ptr<BackgroundVersionWriter> writer,
                         std::vector<int64_t> versions)
    : name_(std::move(name)),
      directory_(std::move(directory)),
      options_(options),
      writer_(std::move(writer)),
      versions_(std::move(versions)) {}

std::string StoredModel::VersionPath(int64_t version) const {
  return absl::StrFormat("%s/v%012d%s", directory_, version, kVersionSuffix);
}

absl::Status StoredModel::WriteVersion(const ModelVersion& version) {
  const std::string payload = EncodeModelVersionPayload(version);
  WriterLock io(&io_mu_);
  if (deleted_) {
    return absl::FailedPreconditionError(
        absl::StrCat("model '", name_, "' was deleted"));
  }
  BNMLP_RETURN_IF_ERROR(WriteDurableFile(VersionPath(version.version),
                                         kModelVersionMagic,
                                         kModelVersionFormat, payload));
  std::vector<int64_t> versions = ListVersionFiles(directory_);
  const size_t keep = static_cast<size_t>(std::max(1, options_.keep_versions));
  while (versions.size() > keep) {
    // Unsynced: a crash may bring an old version back, never lose a new one.
    if (unlink(VersionPath(versions.front()).c_str()) != 0) break;
    versions.erase(versions.begin());
  }
  std::lock_guard<std::mutex> lock(mu_);
  versions_ = std::move(versions);
  return absl::OkStatus();
}

void StoredModel::WriteVersionInBackground(ModelVersion version) {
  bool schedule = false;
  {
    std::unique_lock<std::mutex> lock(mu_);
    written_.wait(lock, [this] { return queued_.size() < kMaxQueuedVersions; });
    queued_.push_back(std::move(version));
    if (!scheduled_) scheduled_ = schedule = true;
  }
  // The writer takes a reference: the shared_ptr that owns this object.
  // StoredModels are only made by the store, always in a shared_ptr.
  if (schedule) writer_->Schedule(shared_from_this());
}

void StoredModel::WriteQueued() {
  std::optional<ModelVersion> version;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!queued_.empty()) {
      version = std::move(queued_.front());
      queued_.pop_front();
    }
  }
  if (version.has_value()) {
    const absl::Time start = absl::Now();
    const absl::Status written = WriteVersion(*version);
    if (written.ok()) {
      LogEvent(absl::StrCat("event=store_version_written model=", name_,
                            " version=", version->version, " ms=",
                            absl::ToDoubleMilliseconds(absl::Now() - start)));
    } else {
      LogEvent(LogLevel::kError,
               absl::StrCat("event=store_write_failed model=", name_,
                            " version=", version->version, " reason=\"",
                            written.message(), "\""));
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (!written.ok() && background_error_.ok()) background_error_ = written;
  }
  bool again = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    again = !queued_.empty();
    if (!again) scheduled_ = false;
  }
  written_.notify_all();
  if (again) writer_->Schedule(shared_from_this());
}

absl::Status StoredModel::Flush() {
  std::unique_lock<std::mutex> lock(mu_);
  written_.wait(lock, [this] { return !scheduled_; });
  absl::Status error = std::move(background_error_);
  background_error_ = absl::OkStatus();
  return error;
}

absl::Status StoredModel::WriteTrainingState(const StoredTrainingState& state) {
  WriterLock io(&io_mu_);
  if (deleted_) {
    return absl::FailedPreconditionError(
        absl::StrCat("model '", name_, "' was deleted"));
  }
  return WriteDurableFile(absl::StrCat(directory_, "/", kStateFile),
                          kTrainingStateMagic, kTrainingStateFormat,
                          EncodeTrainingStatePayload(state));
}

absl::StatusOr<std::string> StoredModel::ReadVersionPayload(
    int64_t version) const {
  absl::StatusOr<std::string> payload = ReadDurableFile(
      VersionPath(version), kModelVersionMagic, kModelVersionFormat,
      kModelVersionFormat, MaxModelFileBytes(options_.max_parameters));
  if (absl::IsNotFound(payload.status())) {
    return absl::NotFoundError(
        absl::StrCat("version: model '", name_, "' version ", version,
                     " is not retained; retained versions: ",
                     absl::StrJoin(RetainedVersions(), ", ")));
  }
  return payload;
}

absl::StatusOr<ModelVersion> StoredModel::ReadVersion(int64_t version) const {
  absl::StatusOr<std::string> payload = ReadVersionPayload(version);
  BNMLP_RETURN_IF_ERROR(payload.status());
  BNMLP_ASSIGN_OR_RETURN(
      ModelVersion decoded,
      DecodeModelVersionPayload(*payload, options_.max_parameters));
  if (decoded.version != version || decoded.name != name_) {
    return absl::DataLossError(absl::StrCat(VersionPath(version),
                                            ": holds model '", decoded.name,
                                            "' version ", decoded.version));
  }
  return decoded;
}

std::vector<int64_t> StoredModel::RetainedVersions() const {
  std::lock_guard<std::mutex> lock(mu_);
  return versions_;
}

int64_t StoredModel::durable_version() const {
  std::lock_guard<std::mutex> lock(mu_);
  return versions_.empty() ? 0 : versions_.back();
}

absl::Status StoredModel::Refresh() {
  std::vector<int64_t> versions = ListVersionFiles(directory_);
  std::lock_guard<std::mutex> lock(mu_);
  versions_ = std::move(versions);
  return absl::OkStatus();
}

absl::Status StoredModel::MoveToTombstone(const std::string& tombstone) {
  WriterLock io(&io_mu_);
  BNMLP_RETURN_IF_ERROR(RenameDurably(directory_, tombstone));
  deleted_ = true;
  return absl::OkStatus();
}

ModelStore::ModelStore(ModelStoreOptions options,
                       std::unique_ptr<StoreLock> lock)
    : options_(std::move(options)),
      models_directory_(options_.directory + "/models"),
      lock_(std::move(lock)),
      writer_(std::make_shared<BackgroundVersionWriter>()) {}

// The queued writes finish before `lock_` is released (members are
// destroyed after the body).
ModelStore::~ModelStore() { writer_->Stop(); }

absl::StatusOr<std::unique_ptr<ModelStore>> ModelStore::Open(
    const ModelStoreOptions& options) {
  const std::string& dir = options.directory;
  if (dir.empty()) {
    return absl::InvalidArgumentError("--model_dir: expected a directory");
  }
  if (options.keep_versions < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--keep_versions: expected >= 1, got ", options.keep_versions));
  }
  const std::string models = dir + "/models";
  std::unique_ptr<StoreLock> lock;  // stays null for a replica
  if (options.read_only) {
    struct stat info;
    if (stat(models.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "--model_dir: cannot open the model store ", dir,
          " read-only: ", models, " is not a directory (", std::strerror(errno),
          "); start the writer on it first"));
    }
  } else {
    std::error_code error;
    std::filesystem::create_directories(models, error);
    if (error) {
      return absl::FailedPreconditionError(
          absl::StrCat("--model_dir: cannot create the model store ", models,
                       ": ", error.message()));
    }
    if (access(models.c_str(), W_OK | X_OK) != 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("--model_dir: the model store ", models,
                       " is not writable: ", std::strerror(errno)));
    }
    BNMLP_ASSIGN_OR_RETURN(lock, StoreLock::Acquire(dir));
    // What a crash left half done: deletes (tombstones) and temporaries.
    for (const std::string& name : ListDirectory(models)) {
      if (absl::StartsWith(name, kTombstonePrefix)) {
        RemoveTree(absl::StrCat(models, "/", name));
        continue;
      }
      const std::string model_dir = absl::StrCat(models, "/", name);
      for (const std::string& file : ListDirectory(model_dir)) {
        if (absl::StrContains(file, kTemporarySuffix)) {
          unlink(absl::StrCat(model_dir, "/", file).c_str());
        }
      }
    }
  }
  return std::unique_ptr<ModelStore>(new ModelStore(options, std::move(lock)));
}

std::string ModelStore::ModelDirectory(absl::string_view name) const {
  return absl::StrCat(models_directory_, "/", name);
}

absl::StatusOr<std::shared_ptr<StoredModel>> ModelStore::CreateModel(
    const ModelVersion& first) {
  if (options_.read_only) {
    return absl::FailedPreconditionError("this replica is read-only");
  }
  const std::string directory = ModelDirectory(first.name);
  if (access(directory.c_str(), F_OK) == 0) {
    // Not a registered model (the registry checked the name): a directory
    // without a valid version. Kept, under a name no scan loads.
    const std::string aside = absl::StrCat(models_directory_, "/", kAsidePrefix,
                                           first.name, ".", Micros());
    BNMLP_RETURN_IF_ERROR(RenameDurably(directory, aside));
    LogEvent(LogLevel::kWarning,
             absl::StrCat("event=store_moved_aside path=", directory,
                          " to=", aside, " reason=\"no valid version\""));
  }
  if (mkdir(directory.c_str(), 0755) != 0) {
    return ErrnoError("cannot create the model directory", directory);
  }
  auto model = std::make_shared<StoredModel>(first.name, directory, options_,
                                             writer_, std::vector<int64_t>{});
  absl::Status written = SyncDirectory(models_directory_);
  if (written.ok()) written = model->WriteVersion(first);
  if (!written.ok()) {
    RemoveTree(directory);
    return written;
  }
  return model;
}

absl::Status ModelStore::DeleteModel(StoredModel& model) {
  if (options_.read_only) {
    return absl::FailedPreconditionError("this replica is read-only");
  }
  const std::string tombstone = absl::StrCat(
      models_directory_, "/", kTombstonePrefix, model.name(), ".", Micros());
  BNMLP_RETURN_IF_ERROR(model.MoveToTombstone(tombstone));
  RemoveTree(tombstone);
  return absl::OkStatus();
}

std::vector<std::string> ModelStore::ListModelNames() const {
  std::vector<std::string> names;
  for (std::string& name : ListDirectory(models_directory_)) {
    if (!name.empty() && name[0] != '.') names.push_back(std::move(name));
  }
  return names;
}

absl::StatusOr<LoadedModel> ModelStore::LoadModel(const std::string& name) {
  const std::string directory = ModelDirectory(name);
  auto files = std::make_shared<StoredModel>(name, directory, options_, writer_,
                                             ListVersionFiles(directory));
  std::vector<int64_t> versions = files->RetainedVersions();
  LoadedModel loaded;
  bool found = false;
  while (!versions.empty() && !found) {
    const int64_t version = versions.back();
    absl::StatusOr<ModelVersion> read = files->ReadVersion(version);
    if (read.ok()) {
      loaded.newest = *std::move(read);
      found = true;
    } else if (!absl::IsNotFound(read.status())) {
      MoveAside(files->VersionPath(version), read.status(), options_.read_only);
    }
    versions.pop_back();
  }
  if (!found) {
    return absl::NotFoundError(
        absl::StrCat("model directory ", directory, " holds no valid version"));
  }
  // Versions newer than the one loaded were moved aside: list again.
  BNMLP_RETURN_IF_ERROR(files->Refresh());
  loaded.state.state = loaded.newest.checkpoint != nullptr
                           ? TrainingState::kTrained
                           : TrainingState::kUntrained;
  const std::string state_path = absl::StrCat(directory, "/", kStateFile);
  absl::StatusOr<std::string> state_payload =
      ReadDurableFile(state_path, kTrainingStateMagic, kTrainingStateFormat,
                      kTrainingStateFormat, int64_t{1} << 20);
  absl::StatusOr<StoredTrainingState> state =
      state_payload.ok()
          ? DecodeTrainingStatePayload(*state_payload)
          : absl::StatusOr<StoredTrainingState>(state_payload.status());
  if (state.ok()) {
    loaded.state = *std::move(state);
    // A replica reads the writer's live state: TRAINING is true there.
    if (loaded.state.state == TrainingState::kTraining && !options_.read_only) {
      loaded.state.state = TrainingState::kInterrupted;
      loaded.state.last_error = absl::StrCat(
          "the server stopped while this model was training; it came back "
          "with its last durable version, ",
          loaded.newest.version);
    }
  } else if (!absl::IsNotFound(state.status())) {
    MoveAside(state_path, state.status(), options_.read_only);
  }
  loaded.files = std::move(files);
  return loaded;
}

}  // namespace bnmlp
