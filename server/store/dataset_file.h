// An uploaded dataset as a file of the model store,
// <model_dir>/datasets/<name>.dataset: a durable framed file
// (server/store/durable_file.h, magic "BNMLPDST", format version 1) whose
// payload is, little-endian:
//
//   offset  size  field
//   0       8     features per row (int64)
//   8       4     target kind: 1 class labels, 2 values (uint32)
//   12      8     target width: values per row, 0 for class labels (int64)
//   20      8     rows (int64)
//   28      4     content checksum (DatasetInfo.content_checksum's CRC-32)
//   32      ...   features, float32 [rows, features] row-major; then labels,
//                 int32 [rows], or targets, float32 [rows, target width]
//
// Both ways stream: the writer appends the dataset's own memory in slices,
// the reader fills the dataset's blocks from a small buffer, so a 3 GB
// dataset never exists twice in memory.
#ifndef BNMLP_SERVER_STORE_DATASET_FILE_H_
#define BNMLP_SERVER_STORE_DATASET_FILE_H_

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/stored_dataset.h"

namespace bnmlp {

inline constexpr char kDatasetFileMagic[] = "BNMLPDST";
inline constexpr uint32_t kDatasetFileVersion = 1;

// Writes `data` to `path` durably (temporary file, fsync, rename, directory
// fsync). Errors name the path (RESOURCE_EXHAUSTED for a full disk); the
// final name is untouched unless it returns OK.
absl::Status WriteDatasetFile(const std::string& path,
                              const StoredDataset& data,
                              uint32_t content_checksum);

struct LoadedDataset {
  StoredDataset data;
  uint32_t content_checksum = 0;
};

// Reads a dataset file in two steps, so the caller can admit its memory
// (ReadRows allocates rows * BytesPerRow) between them. Not thread-safe.
class DatasetFileReader {
 public:
  // Opens `path` and checks the frame header and the payload header: the
  // magic, the version, a length that matches the file's size and the row
  // layout. DATA_LOSS naming the path and what is wrong (NOT_FOUND if it
  // does not exist; FAILED_PRECONDITION for a newer format version).
  static absl::StatusOr<std::unique_ptr<DatasetFileReader>> Open(
      const std::string& path);
  ~DatasetFileReader();
  DatasetFileReader(const DatasetFileReader&) = delete;
  DatasetFileReader& operator=(const DatasetFileReader&) = delete;

  const RowLayout& layout() const { return layout_; }
  int64_t rows() const { return rows_; }
  int64_t bytes() const { return rows_ * layout_.BytesPerRow(); }

  // Reads every row, checking each value again (finite, labels >= 0), the
  // frame's CRC-32 and the content checksum. DATA_LOSS naming the path on
  // any mismatch; RESOURCE_EXHAUSTED if the memory cannot be allocated.
  // Call once.
  absl::StatusOr<LoadedDataset> ReadRows();

 private:
  DatasetFileReader(std::string path, std::FILE* file)
      : path_(std::move(path)), file_(file) {}
  absl::Status ReadExactly(void* data, size_t bytes);
  // Reads the next `width` values of every row in pieces of about 4 MiB and
  // hands each piece (values, rows) to `consume`, which checks and keeps it.
  template <typename T, typename Consume>
  absl::Status ReadPart(int64_t width, Consume consume);

  const std::string path_;
  std::FILE* file_;
  RowLayout layout_;
  int64_t rows_ = 0;
  uint32_t content_checksum_ = 0;
  uint32_t frame_crc_ = 0;  // of the payload read so far
};

}  // namespace bnmlp

#endif  // BNMLP_SERVER_STORE_DATASET_FILE_H_
