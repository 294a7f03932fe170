#include "server/store/dataset_store.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "server/event_log.h"
#include "server/store/dataset_file.h"
#include "server/store/durable_file.h"

namespace bnmlp {
namespace {

constexpr absl::string_view kExtension = ".dataset";

absl::Status FilesystemError(const std::error_code& error,
                             absl::string_view what, absl::string_view path) {
  return absl::ErrnoToStatus(
      error.value(), absl::StrCat(what, " ", path, ": ", error.message()));
}

}  // namespace

absl::StatusOr<std::unique_ptr<DatasetStore>> DatasetStore::Open(
    const std::string& model_dir) {
  const std::string directory = absl::StrCat(model_dir, "/datasets");
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  if (error) return FilesystemError(error, "cannot create", directory);
  std::unique_ptr<DatasetStore> store(new DatasetStore(directory));
  // A crash while writing leaves <name>.dataset.tmp.<pid>.<n>: never a
  // dataset, so it goes.
  for (const auto& file :
       std::filesystem::directory_iterator(directory, error)) {
    const std::string name = file.path().filename().string();
    if (absl::StrContains(name, kTemporarySuffix)) {
      std::error_code ignored;
      std::filesystem::remove(file.path(), ignored);
      LogEvent(LogLevel::kWarning,
               absl::StrCat("event=dataset_temporary_removed path=",
                            file.path().string()));
    }
  }
  if (error) return FilesystemError(error, "cannot list", directory);
  return store;
}

std::string DatasetStore::PathOf(absl::string_view name) const {
  return absl::StrCat(directory_, "/", name, kExtension);
}

absl::StatusOr<std::vector<std::string>> DatasetStore::ListNames() const {
  std::vector<std::string> names;
  std::error_code error;
  for (const auto& file :
       std::filesystem::directory_iterator(directory_, error)) {
    const std::string name = file.path().filename().string();
    if (absl::EndsWith(name, kExtension)) {
      names.push_back(name.substr(0, name.size() - kExtension.size()));
    }
  }
  if (error) return FilesystemError(error, "cannot list", directory_);
  std::sort(names.begin(), names.end());
  return names;
}

absl::Status DatasetStore::Save(absl::string_view name,
                                const StoredDataset& data,
                                uint32_t content_checksum) const {
  return WriteDatasetFile(PathOf(name), data, content_checksum);
}

absl::Status DatasetStore::Remove(absl::string_view name) const {
  const std::string path = PathOf(name);
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot remove ", path, ": ",
                                                   std::strerror(errno)));
  }
  return SyncDirectory(directory_);
}

absl::StatusOr<std::string> DatasetStore::MoveAside(
    absl::string_view name) const {
  const std::string path = PathOf(name);
  std::string aside = absl::StrCat(path, ".corrupt");
  for (int n = 1; std::filesystem::exists(aside); ++n) {
    aside = absl::StrCat(path, ".corrupt.", n);
  }
  BNMLP_RETURN_IF_ERROR(RenameDurably(path, aside));
  return aside;
}

}  // namespace bnmlp
