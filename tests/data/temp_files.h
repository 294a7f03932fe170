// Test helpers: a private temporary directory and the files tests write in
// it (plain, gzip-compressed with zlib's gzwrite, IDX).
#ifndef BNMLP_TESTS_DATA_TEMP_FILES_H_
#define BNMLP_TESTS_DATA_TEMP_FILES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace bnmlp::data::test_files {

// A new directory under gtest's TempDir(), unique even when ctest runs tests
// in parallel; removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string PathOf(absl::string_view name) const;

  // Write `bytes` to the file `name` and return its path; fail the test on
  // I/O errors.
  std::string Write(absl::string_view name, absl::string_view bytes) const;
  std::string WriteGzip(absl::string_view name, absl::string_view bytes) const;

 private:
  std::string path_;
};

// The raw bytes of the file at `path` (no decompression).
std::string ReadRawFile(const std::string& path);

// An IDX file: 00 00 `type` dims.size(), big-endian dims, then `data`.
std::string IdxBytes(const std::vector<uint32_t>& dims, absl::string_view data,
                     uint8_t type = 0x08);
// The same for unsigned-byte data given as numbers.
std::string IdxBytes(const std::vector<uint32_t>& dims,
                     const std::vector<uint8_t>& data);

}  // namespace bnmlp::data::test_files

#endif  // BNMLP_TESTS_DATA_TEMP_FILES_H_
