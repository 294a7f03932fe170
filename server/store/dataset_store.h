// The datasets directory of the model store, <model_dir>/datasets/: one
// file per dataset, <name>.dataset (server/store/dataset_file.h). A file
// that cannot be loaded is renamed to <name>.dataset.corrupt (or
// .corrupt.<n>), never deleted; temporaries left by a crash are removed
// when the store opens.
#ifndef BNMLP_SERVER_STORE_DATASET_STORE_H_
#define BNMLP_SERVER_STORE_DATASET_STORE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/stored_dataset.h"

namespace bnmlp {

// Thread-safe (it holds no state but its directory); callers make sure that
// no two calls work on the same name at once (DatasetRegistry does).
class DatasetStore {
 public:
  // Creates <model_dir>/datasets if needed. UNAVAILABLE (or the errno's
  // code) naming the path if it cannot be created or listed.
  static absl::StatusOr<std::unique_ptr<DatasetStore>> Open(
      const std::string& model_dir);

  const std::string& directory() const { return directory_; }
  std::string PathOf(absl::string_view name) const;

  // The names of the dataset files present, sorted.
  absl::StatusOr<std::vector<std::string>> ListNames() const;
  // Writes the dataset durably under its name (replacing any file).
  absl::Status Save(absl::string_view name, const StoredDataset& data,
                    uint32_t content_checksum) const;
  // Removes the dataset's file durably; OK if there is none.
  absl::Status Remove(absl::string_view name) const;
  // Renames the dataset's file aside (see above); returns the new path.
  absl::StatusOr<std::string> MoveAside(absl::string_view name) const;

 private:
  explicit DatasetStore(std::string directory)
      : directory_(std::move(directory)) {}

  const std::string directory_;
};

}  // namespace bnmlp

#endif  // BNMLP_SERVER_STORE_DATASET_STORE_H_
