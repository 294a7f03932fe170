// Reading a whole file that may be gzip-compressed.
#ifndef BNMLP_DATA_COMPRESSED_FILE_H_
#define BNMLP_DATA_COMPRESSED_FILE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace bnmlp::data {

// The largest (decompressed) file the readers accept by default, so that a
// gzip bomb fails cleanly instead of exhausting memory. Fashion-MNIST's
// training images are 47 MB.
inline constexpr int64_t kDefaultMaxFileBytes = int64_t{4} << 30;  // 4 GiB

struct FileContents {
  std::string bytes;  // decompressed if the file was gzip
  bool gzip = false;  // the file started with the gzip magic bytes 1f 8b
};

// Reads the file at `path` into memory. A file that starts with the gzip
// magic bytes is decompressed with zlib (concatenated gzip members are read
// in turn); any other file is read as is.
//
// Errors, each message naming `path`:
//   NOT_FOUND, PERMISSION_DENIED, ...  the file cannot be opened (from errno);
//   INVALID_ARGUMENT  `path` is a directory, or the gzip stream is corrupt or
//                     truncated (the message gives the compressed byte
//                     offset and zlib's diagnosis);
//   RESOURCE_EXHAUSTED  the (decompressed) contents exceed `max_bytes`.
// Thread-safe: shares no state between calls.
absl::StatusOr<FileContents> ReadMaybeCompressedFile(
    const std::string& path, int64_t max_bytes = kDefaultMaxFileBytes);

}  // namespace bnmlp::data

#endif  // BNMLP_DATA_COMPRESSED_FILE_H_
