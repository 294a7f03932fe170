#include "server/dataset_registry.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "server/event_log.h"
#include "server/model_registry.h"
#include "server/store/dataset_file.h"

namespace bnmlp {

// A published dataset: immutable, except for the count of its users.
struct DatasetEntry {
  DatasetEntry(std::string name, StoredDataset data, uint32_t checksum,
               MemoryBudget::Reservation memory)
      : name(std::move(name)),
        data(std::move(data)),
        content_checksum(checksum),
        memory(std::move(memory)) {}

  const std::string name;
  const StoredDataset data;
  const uint32_t content_checksum;
  // Given back to the budget when the last holder (the registry or a
  // lease) lets go.
  MemoryBudget::Reservation memory;
  std::atomic<int> trainings_using{0};
};

namespace {

std::string Describe(absl::string_view name) {
  return absl::StrCat("dataset '", name, "'");
}

DatasetStatus StatusOf(const DatasetEntry& entry) {
  DatasetStatus status;
  status.name = entry.name;
  status.layout = entry.data.layout();
  status.rows = entry.data.rows();
  status.classes = entry.data.classes();
  status.bytes = entry.data.bytes();
  status.content_checksum = entry.content_checksum;
  status.trainings_using = entry.trainings_using.load();
  return status;
}

// OK if `name` is a valid dataset name (the rules of model names).
absl::Status ValidateDatasetName(absl::string_view name) {
  return ValidateModelName(name);
}

}  // namespace

DatasetLease::DatasetLease(std::shared_ptr<DatasetEntry> entry)
    : entry_(std::move(entry)) {
  entry_->trainings_using.fetch_add(1);
}

DatasetLease::~DatasetLease() {
  if (entry_ != nullptr) entry_->trainings_using.fetch_sub(1);
}

const std::string& DatasetLease::name() const { return entry_->name; }
const StoredDataset& DatasetLease::data() const { return entry_->data; }

DatasetUpload::DatasetUpload(DatasetRegistry* registry, std::string name,
                             DatasetBuilder builder,
                             MemoryBudget::Reservation memory,
                             bool reserved_up_front)
    : registry_(registry),
      name_(std::move(name)),
      builder_(std::move(builder)),
      memory_(std::move(memory)),
      reserved_up_front_(reserved_up_front) {}

DatasetUpload::~DatasetUpload() {
  if (!committed_) registry_->ReleaseName(name_);
}

absl::Status DatasetUpload::Append(const Dataset<float>& rows) {
  const int64_t bytes = rows.size() * builder_.layout().BytesPerRow();
  if (!reserved_up_front_) {
    BNMLP_RETURN_IF_ERROR(memory_.Grow(bytes, Describe(name_)));
  }
  if (absl::Status appended = builder_.AppendRows(rows); !appended.ok()) {
    if (!reserved_up_front_) memory_.Shrink(bytes);
    return appended;
  }
  checksum_.AddFeatures(
      absl::MakeConstSpan(rows.x.data(), static_cast<size_t>(rows.x.size())));
  checksum_.AddLabels(rows.labels);
  checksum_.AddTargets(absl::MakeConstSpan(
      rows.targets.data(), static_cast<size_t>(rows.targets.size())));
  return absl::OkStatus();
}

absl::StatusOr<DatasetStatus> DatasetUpload::Commit() {
  BNMLP_ASSIGN_OR_RETURN(StoredDataset data, std::move(builder_).Finish());
  const uint32_t checksum = checksum_.Value();
  if (registry_->store_ != nullptr) {
    BNMLP_RETURN_IF_ERROR(registry_->store_->Save(name_, data, checksum));
  }
  auto entry = std::make_shared<DatasetEntry>(name_, std::move(data), checksum,
                                              std::move(memory_));
  DatasetStatus status = StatusOf(*entry);
  registry_->Insert(std::move(entry));
  committed_ = true;
  return status;
}

DatasetRegistry::DatasetRegistry(int64_t max_bytes,
                                 std::unique_ptr<DatasetStore> store,
                                 std::shared_ptr<MemoryBudget> process_budget)
    : budget_(MemoryBudget::Create(max_bytes, "--max_dataset_bytes",
                                   std::move(process_budget))),
      store_(std::move(store)) {}

DatasetRegistry::~DatasetRegistry() = default;

absl::Status DatasetRegistry::ClaimName(absl::string_view name) {
  WriterLock lock(&mu_);
  if (datasets_.contains(name)) {
    return absl::AlreadyExistsError(
        absl::StrCat(Describe(name),
                     " already exists; delete it or upload under another "
                     "name"));
  }
  if (auto busy = busy_.find(name); busy != busy_.end()) {
    const std::string message = absl::StrCat(Describe(name), " is being ",
                                             busy->second, " by another call");
    return busy->second == "deleted" ? absl::AbortedError(message)
                                     : absl::AlreadyExistsError(message);
  }
  busy_.emplace(std::string(name), "uploaded");
  return absl::OkStatus();
}

void DatasetRegistry::ReleaseName(absl::string_view name) {
  WriterLock lock(&mu_);
  busy_.erase(std::string(name));
}

void DatasetRegistry::Insert(std::shared_ptr<DatasetEntry> entry) {
  WriterLock lock(&mu_);
  busy_.erase(entry->name);
  const std::string name = entry->name;
  datasets_[name] = std::move(entry);
}

absl::StatusOr<std::unique_ptr<DatasetUpload>> DatasetRegistry::BeginUpload(
    absl::string_view name, const RowLayout& layout, int64_t expected_rows) {
  BNMLP_RETURN_IF_ERROR(ValidateDatasetName(name));
  BNMLP_RETURN_IF_ERROR(ValidateRowLayout(layout));
  if (expected_rows < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "expected_rows: must be >= 0 (0: not known), got ", expected_rows));
  }
  const int64_t row_bytes = layout.BytesPerRow();
  if (expected_rows > budget_->limit() / row_bytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat(Describe(name), ": ", expected_rows, " rows of ",
                     row_bytes, " bytes exceed the ", budget_->limit(),
                     " bytes datasets may take (--max_dataset_bytes)"));
  }
  // Admitted before anything is allocated.
  BNMLP_ASSIGN_OR_RETURN(
      MemoryBudget::Reservation memory,
      budget_->Reserve(expected_rows * row_bytes, Describe(name)));
  BNMLP_RETURN_IF_ERROR(ClaimName(name));
  absl::StatusOr<DatasetBuilder> builder =
      DatasetBuilder::Create(layout, expected_rows);
  if (!builder.ok()) {
    ReleaseName(name);
    return builder.status();
  }
  return std::unique_ptr<DatasetUpload>(
      new DatasetUpload(this, std::string(name), *std::move(builder),
                        std::move(memory), expected_rows > 0));
}

absl::StatusOr<std::shared_ptr<DatasetEntry>> DatasetRegistry::Find(
    absl::string_view name) const {
  BNMLP_RETURN_IF_ERROR(ValidateDatasetName(name));
  ReaderLock lock(&mu_);
  auto it = datasets_.find(name);
  if (it == datasets_.end()) {
    return absl::NotFoundError(absl::StrCat(Describe(name), " not found"));
  }
  return it->second;
}

std::vector<DatasetStatus> DatasetRegistry::List() const {
  std::vector<DatasetStatus> list;
  ReaderLock lock(&mu_);
  list.reserve(datasets_.size());
  for (const auto& [name, entry] : datasets_) list.push_back(StatusOf(*entry));
  return list;
}

absl::StatusOr<DatasetStatus> DatasetRegistry::Get(
    absl::string_view name) const {
  BNMLP_ASSIGN_OR_RETURN(std::shared_ptr<DatasetEntry> entry, Find(name));
  return StatusOf(*entry);
}

absl::StatusOr<DatasetLease> DatasetRegistry::Acquire(
    absl::string_view name) const {
  BNMLP_ASSIGN_OR_RETURN(std::shared_ptr<DatasetEntry> entry, Find(name));
  return DatasetLease(std::move(entry));
}

absl::StatusOr<int> DatasetRegistry::Delete(absl::string_view name) {
  BNMLP_RETURN_IF_ERROR(ValidateDatasetName(name));
  std::shared_ptr<DatasetEntry> entry;
  {
    WriterLock lock(&mu_);
    auto it = datasets_.find(name);
    if (it == datasets_.end()) {
      return absl::NotFoundError(absl::StrCat(Describe(name), " not found"));
    }
    entry = std::move(it->second);
    datasets_.erase(it);
    // Until its file is gone, no upload may write a new one under the name.
    busy_.emplace(std::string(name), "deleted");
  }
  absl::Status removed =
      store_ != nullptr ? store_->Remove(name) : absl::OkStatus();
  ReleaseName(name);
  if (!removed.ok()) {
    // The dataset is gone from memory; its file would come back at the next
    // start. Say so rather than pretend.
    return absl::Status(removed.code(),
                        absl::StrCat(Describe(name),
                                     " was removed from memory but its file "
                                     "could not be: ",
                                     removed.message()));
  }
  return entry->trainings_using.load();
}

bool DatasetRegistry::LoadOne(absl::string_view name) {
  const std::string path = store_->PathOf(name);
  absl::Status status = ValidateDatasetName(name);
  std::unique_ptr<DatasetFileReader> reader;
  if (status.ok()) {
    absl::StatusOr<std::unique_ptr<DatasetFileReader>> opened =
        DatasetFileReader::Open(path);
    status = opened.status();
    if (opened.ok()) reader = *std::move(opened);
  }
  if (status.ok()) {
    absl::StatusOr<MemoryBudget::Reservation> memory =
        budget_->Reserve(reader->bytes(), Describe(name));
    if (!memory.ok()) {
      LogEvent(LogLevel::kWarning,
               absl::StrCat("event=dataset_not_loaded path=", path,
                            " reason=\"", memory.status().message(), "\""));
      return false;
    }
    absl::StatusOr<LoadedDataset> loaded = reader->ReadRows();
    status = loaded.status();
    if (loaded.ok()) {
      Insert(std::make_shared<DatasetEntry>(
          std::string(name), std::move(loaded->data), loaded->content_checksum,
          *std::move(memory)));
      return true;
    }
  }
  absl::StatusOr<std::string> aside = store_->MoveAside(name);
  LogEvent(LogLevel::kError,
           absl::StrCat("event=dataset_corrupt path=", path, " reason=\"",
                        status.message(),
                        "\" moved_to=", aside.ok() ? *aside : "(not moved)"));
  return false;
}

int DatasetRegistry::LoadFromStore() {
  if (store_ == nullptr) return 0;
  absl::StatusOr<std::vector<std::string>> names = store_->ListNames();
  if (!names.ok()) {
    LogEvent(LogLevel::kError,
             absl::StrCat("event=datasets_not_loaded reason=\"",
                          names.status().message(), "\""));
    return 0;
  }
  int loaded = 0;
  for (const std::string& name : *names) loaded += LoadOne(name) ? 1 : 0;
  return loaded;
}

}  // namespace bnmlp
