// The server's uploaded datasets: named, immutable once uploaded, shared by
// the Train calls that use them, counted against a memory budget of their
// own (--max_dataset_bytes), and kept in the model store when there is one.
#ifndef BNMLP_SERVER_DATASET_REGISTRY_H_
#define BNMLP_SERVER_DATASET_REGISTRY_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/annotated_mutex.h"
#include "core/dataset.h"
#include "core/stored_dataset.h"
#include "server/dataset_checksum.h"
#include "server/memory_budget.h"
#include "server/store/dataset_store.h"

namespace bnmlp {

// --max_dataset_bytes' default: room for a few Fashion-MNIST-sized sets
// (188 MB each) or one of a million 784-feature rows.
inline constexpr int64_t kDefaultMaxDatasetBytes = int64_t{4} << 30;

// A consistent copy of one dataset's registry state.
struct DatasetStatus {
  std::string name;
  RowLayout layout;
  int64_t rows = 0;
  int64_t classes = 0;  // class labels: largest label + 1; 0 for values
  int64_t bytes = 0;
  uint32_t content_checksum = 0;
  int trainings_using = 0;
};

struct DatasetEntry;  // defined in dataset_registry.cc
class DatasetRegistry;

// One Train call's use of a dataset: keeps it alive (and counted in
// trainings_using) until destroyed, even after DeleteDataset. Move-only.
class DatasetLease {
 public:
  DatasetLease(DatasetLease&&) noexcept = default;
  DatasetLease& operator=(DatasetLease&&) noexcept = default;
  ~DatasetLease();

  const std::string& name() const;
  const StoredDataset& data() const;

 private:
  friend class DatasetRegistry;
  explicit DatasetLease(std::shared_ptr<DatasetEntry> entry);

  std::shared_ptr<DatasetEntry> entry_;
};

// An upload in progress, from BeginUpload to Commit. Invisible to List,
// Get and Train until committed; destroying it uncommitted releases its
// name and memory and leaves no trace. Not thread-safe (one call drives
// it); must not outlive its registry.
class DatasetUpload {
 public:
  DatasetUpload(const DatasetUpload&) = delete;
  DatasetUpload& operator=(const DatasetUpload&) = delete;
  ~DatasetUpload();

  const std::string& name() const { return name_; }
  int64_t rows() const { return builder_.feature_rows(); }

  // The next rows: x (features x n) with n labels or (target_width x n)
  // targets. Admits their memory first (RESOURCE_EXHAUSTED with the
  // figures), then checks every value (INVALID_ARGUMENT naming the row in
  // the whole dataset, see DatasetBuilder::AppendRows). A refused chunk
  // leaves the upload as it was.
  absl::Status Append(const Dataset<float>& rows);
  // Publishes the dataset (after writing it durably, with a store) and
  // returns its status. INVALID_ARGUMENT if no row arrived or
  // expected_rows was not met; a store error names the path. Call once.
  absl::StatusOr<DatasetStatus> Commit();

 private:
  friend class DatasetRegistry;
  DatasetUpload(DatasetRegistry* registry, std::string name,
                DatasetBuilder builder, MemoryBudget::Reservation memory,
                bool reserved_up_front);

  DatasetRegistry* const registry_;
  const std::string name_;
  DatasetBuilder builder_;
  MemoryBudget::Reservation memory_;
  const bool reserved_up_front_;
  ContentChecksum checksum_;
  bool committed_ = false;
};

// Thread-safe. Locks are held only for map updates, never while data is
// checked, copied or written to disk.
//
// Errors: INVALID_ARGUMENT for a bad name or layout, NOT_FOUND for an
// unknown dataset, ALREADY_EXISTS for a taken name (or one being uploaded),
// ABORTED for a name being deleted at that moment, RESOURCE_EXHAUSTED over
// the memory budget.
class DatasetRegistry {
 public:
  // `max_bytes`: the rows of every dataset (and upload) together.
  // `store` may be null (memory only). With a `process_budget`, the rows
  // are also reserved from it (--max_memory_bytes).
  DatasetRegistry(int64_t max_bytes, std::unique_ptr<DatasetStore> store,
                  std::shared_ptr<MemoryBudget> process_budget = nullptr);
  DatasetRegistry(const DatasetRegistry&) = delete;
  DatasetRegistry& operator=(const DatasetRegistry&) = delete;
  ~DatasetRegistry();

  const MemoryBudget& budget() const { return *budget_; }
  const DatasetStore* store() const { return store_.get(); }

  // Loads every dataset in the store (call once, before serving). A file
  // that cannot be read is logged and moved aside; one that does not fit
  // the budget is logged and left in place. Returns how many loaded.
  int LoadFromStore();

  // Starts an upload of `name`. expected_rows > 0 admits and allocates the
  // whole dataset at once (and makes any other row count an error).
  absl::StatusOr<std::unique_ptr<DatasetUpload>> BeginUpload(
      absl::string_view name, const RowLayout& layout, int64_t expected_rows);

  std::vector<DatasetStatus> List() const;
  absl::StatusOr<DatasetStatus> Get(absl::string_view name) const;
  // Removes the dataset (and its file). Returns the Train calls still using
  // it: its memory is released when the last of them ends.
  absl::StatusOr<int> Delete(absl::string_view name);
  // The dataset, for one Train call.
  absl::StatusOr<DatasetLease> Acquire(absl::string_view name) const;

 private:
  friend class DatasetUpload;
  absl::StatusOr<std::shared_ptr<DatasetEntry>> Find(
      absl::string_view name) const;
  // Claims `name` for an upload or a delete: ALREADY_EXISTS if it is
  // taken or being uploaded, ABORTED if it is being deleted.
  absl::Status ClaimName(absl::string_view name) ABSL_LOCKS_EXCLUDED(mu_);
  void ReleaseName(absl::string_view name) ABSL_LOCKS_EXCLUDED(mu_);
  void Insert(std::shared_ptr<DatasetEntry> entry) ABSL_LOCKS_EXCLUDED(mu_);
  bool LoadOne(absl::string_view name);

  const std::shared_ptr<MemoryBudget> budget_;
  const std::unique_ptr<DatasetStore> store_;
  // Held only to look up, insert or erase map entries.
  mutable AnnotatedMutex mu_;
  absl::btree_map<std::string, std::shared_ptr<DatasetEntry>> datasets_
      ABSL_GUARDED_BY(mu_);
  // Names being uploaded ("uploaded") or deleted ("deleted"): not visible,
  // not available.
  absl::btree_map<std::string, std::string> busy_ ABSL_GUARDED_BY(mu_);
};

}  // namespace bnmlp

#endif  // BNMLP_SERVER_DATASET_REGISTRY_H_
