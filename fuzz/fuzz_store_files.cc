// Fuzzes the model store's file loaders (server/store/) as a server reads
// its --model_dir at startup: a model version file (ReadDurableFile's frame
// checks, then DecodeModelVersionPayload, as StoredModel::ReadVersion), a
// model's STATE file (as ModelStore::LoadModel) and an uploaded dataset's
// file (DatasetFileReader, as DatasetRegistry::LoadOne: open, admit the
// memory against the server's default dataset budget, read the rows). The
// first byte picks the file; the rest is its bytes, written to a scratch
// file. A damaged file must be refused with an error, never crash or
// allocate what it merely claims.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "fuzz/fuzz_input.h"
#include "server/dataset_registry.h"
#include "server/model_files.h"
#include "server/store/dataset_file.h"
#include "server/store/durable_file.h"
#include "server/store/model_record.h"
#include "server/store/model_store.h"

namespace bnmlp {
namespace {

// Datasets a fuzz input may make the loader allocate: the server's default
// budget (4 GiB) is beyond the fuzzer's memory limit; the checks before the
// allocation are the same.
constexpr int64_t kMaxDatasetBytes = int64_t{64} << 20;

void LoadVersionFile(absl::string_view bytes) {
  const int64_t max_parameters = ModelStoreOptions{}.max_parameters;
  absl::StatusOr<std::string> payload = ReadDurableFile(
      fuzz::WriteScratchFile(bytes), kModelVersionMagic, kModelVersionFormat,
      kModelVersionFormat, MaxModelFileBytes(max_parameters));
  if (!payload.ok()) return;
  absl::StatusOr<ModelVersion> version =
      DecodeModelVersionPayload(*payload, max_parameters);
  if (version.ok() && version->model == nullptr) std::abort();
}

void LoadStateFile(absl::string_view bytes) {
  absl::StatusOr<std::string> payload = ReadDurableFile(
      fuzz::WriteScratchFile(bytes), kTrainingStateMagic, kTrainingStateFormat,
      kTrainingStateFormat, int64_t{1} << 20);
  if (payload.ok()) DecodeTrainingStatePayload(*payload).IgnoreError();
}

void LoadDatasetFile(absl::string_view bytes) {
  absl::StatusOr<std::unique_ptr<DatasetFileReader>> reader =
      DatasetFileReader::Open(fuzz::WriteScratchFile(bytes));
  if (!reader.ok()) return;
  if ((*reader)->bytes() < 0) std::abort();
  if ((*reader)->bytes() > kMaxDatasetBytes) return;  // the budget's refusal
  absl::StatusOr<LoadedDataset> loaded = (*reader)->ReadRows();
  if (loaded.ok() && loaded->data.rows() != (*reader)->rows()) std::abort();
}

void FuzzOneFile(fuzz::FuzzInput& input) {
  switch (input.TakeByte() % 3) {
    case 0:
      LoadVersionFile(input.rest());
      break;
    case 1:
      LoadStateFile(input.rest());
      break;
    default:
      LoadDatasetFile(input.rest());
      break;
  }
}

}  // namespace
}  // namespace bnmlp

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  bnmlp::fuzz::FuzzInput input(data, size);
  bnmlp::FuzzOneFile(input);
  return 0;
}
