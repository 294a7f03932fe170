// The model store: every model's versions on disk under --model_dir,
// written durably, reloaded at startup, shared with read-only replicas.
//
// Layout (docs/store.md):
//   DIR/LOCK                          the writer's lock (store_lock.h)
//   DIR/models/<name>/v000000000042.bnmlp   one version (model_record.h)
//   DIR/models/<name>/STATE           the training state (model_record.h)
//   DIR/models/<name>/*.corrupt-<us>  damaged files, moved aside, kept
//   DIR/models/.deleted.<name>.<us>   a model being deleted (tombstone)
//   DIR/models/.aside.<name>.<us>     a model directory without a valid
//                                     version, moved aside by a Create
// Every file is written by server/store/durable_file.h (temporary, fsync,
// rename, directory fsync), so a crash leaves each name whole or absent.
#ifndef BNMLP_SERVER_STORE_MODEL_STORE_H_
#define BNMLP_SERVER_STORE_MODEL_STORE_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/annotated_mutex.h"
#include "server/store/model_record.h"
#include "server/store/store_lock.h"

namespace bnmlp {

struct ModelStoreOptions {
  std::string directory;
  // A replica: reads only, takes no lock, moves nothing aside.
  bool read_only = false;
  // Versions kept on disk per model (the newest ones); >= 1.
  int keep_versions = 3;
  // Files describing larger models are refused (and not read into memory).
  int64_t max_parameters = int64_t{16} << 20;
};

class BackgroundVersionWriter;

// One model's directory. Thread-safe. Owned jointly by the registry entry
// and the store's background writer.
class StoredModel : public std::enable_shared_from_this<StoredModel> {
 public:
  StoredModel(std::string name, std::string directory,
              const ModelStoreOptions& options,
              std::shared_ptr<BackgroundVersionWriter> writer,
              std::vector<int64_t> versions);
  StoredModel(const StoredModel&) = delete;
  StoredModel& operator=(const StoredModel&) = delete;

  const std::string& name() const { return name_; }
  const std::string& directory() const { return directory_; }

  // Writes `version` durably, then removes the versions beyond
  // keep_versions. Errors name the path (RESOURCE_EXHAUSTED for a full
  // disk); FAILED_PRECONDITION once the model was deleted.
  absl::Status WriteVersion(const ModelVersion& version);
  // Hands `version` to the store's writer thread. Returns at once unless
  // kMaxQueuedVersions of this model are already waiting: then it waits for
  // one write (the disk sets the pace only when it falls that far behind).
  void WriteVersionInBackground(ModelVersion version);
  static constexpr size_t kMaxQueuedVersions = 2;
  // Waits until this model's background writes are done; returns the first
  // error since the previous Flush.
  absl::Status Flush();
  absl::Status WriteTrainingState(const StoredTrainingState& state);
  // A retained version from disk; NOT_FOUND naming the retained ones.
  absl::StatusOr<ModelVersion> ReadVersion(int64_t version) const;
  // The same version's checked payload (the file's bytes are its frame).
  absl::StatusOr<std::string> ReadVersionPayload(int64_t version) const;

  // The versions on disk, oldest first, as of the last write or Refresh.
  std::vector<int64_t> RetainedVersions() const;
  int64_t durable_version() const;
  // Re-lists the directory (replicas, after another process wrote).
  absl::Status Refresh();

 private:
  friend class ModelStore;
  friend class BackgroundVersionWriter;
  std::string VersionPath(int64_t version) const;
  // The writer thread's half of WriteVersionInBackground.
  void WriteQueued();
  // Marks the model deleted and renames its directory to `tombstone`.
  absl::Status MoveToTombstone(const std::string& tombstone);

  const std::string name_;
  const std::string directory_;
  const ModelStoreOptions options_;
  const std::shared_ptr<BackgroundVersionWriter> writer_;

  // Held for a whole file write, prune or delete of this model (disk time),
  // so that they never interleave; never while `mu_` is held.
  mutable AnnotatedMutex io_mu_;
  bool deleted_ ABSL_GUARDED_BY(io_mu_) = false;

  // Held only to read or update the fields below.
  mutable std::mutex mu_;
  std::condition_variable written_;  // signalled after each queued write
  std::vector<int64_t> versions_;    // guarded by mu_
  std::deque<ModelVersion> queued_;  // guarded by mu_
  bool scheduled_ = false;           // queued or being written; guarded by mu_
  absl::Status background_error_;    // guarded by mu_
};

// A model as the store holds it after a load.
struct LoadedModel {
  ModelVersion newest;
  // INTERRUPTED if a Train was running when the server stopped.
  StoredTrainingState state;
  std::shared_ptr<StoredModel> files;
};

// Thread-safe.
class ModelStore {
 public:
  // Opens (a writer: creates) the directory and, for a writer, takes the
  // lock: FAILED_PRECONDITION naming the holder (pid, host) if another
  // server holds it. Removes the tombstones and temporaries a crash left.
  // Errors name the directory and the reason.
  static absl::StatusOr<std::unique_ptr<ModelStore>> Open(
      const ModelStoreOptions& options);
  ModelStore(const ModelStore&) = delete;
  ModelStore& operator=(const ModelStore&) = delete;
  // Finishes the queued background writes, then releases the lock.
  ~ModelStore();

  const ModelStoreOptions& options() const { return options_; }

  // Creates `first.name`'s directory with its first version, durable on OK
  // (a leftover directory without a valid version is moved aside first).
  absl::StatusOr<std::shared_ptr<StoredModel>> CreateModel(
      const ModelVersion& first);
  // Removes the model's files crash-safely: its directory is renamed to a
  // tombstone (durably), then removed; a crash in between leaves only the
  // tombstone, which Open removes. Writes through `model` then fail.
  absl::Status DeleteModel(StoredModel& model);

  // The names of the model directories, sorted.
  std::vector<std::string> ListModelNames() const;
  // The newest valid version of one model and its state. Damaged files are
  // logged (path, reason) and, by a writer, moved aside; older versions are
  // tried in turn. NOT_FOUND if no version is valid.
  absl::StatusOr<LoadedModel> LoadModel(const std::string& name);

 private:
  ModelStore(ModelStoreOptions options, std::unique_ptr<StoreLock> lock);
  std::string ModelDirectory(absl::string_view name) const;

  const ModelStoreOptions options_;
  const std::string models_directory_;
  const std::unique_ptr<StoreLock> lock_;  // null for a replica
  const std::shared_ptr<BackgroundVersionWriter> writer_;
};

// The versions in a model directory, oldest first (names v<digits>.bnmlp).
std::vector<int64_t> ListVersionFiles(const std::string& directory);

}  // namespace bnmlp

#endif  // BNMLP_SERVER_STORE_MODEL_STORE_H_
