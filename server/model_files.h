// Model files over the API's streams (ExportModel, ImportModel): their
// formats, the chunks they travel in, their size limit and checksum. No
// format's contents: the interchange library (ONNX) and the model store
// (bnmlp's native format) own those.
#ifndef BNMLP_SERVER_MODEL_FILES_H_
#define BNMLP_SERVER_MODEL_FILES_H_

#include <cstdint>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "bnmlp/v1/bnmlp.pb.h"

namespace bnmlp {

enum class ModelFileFormat { kBnmlp, kOnnx };

// The most file bytes one ExportModelResponse or ImportModelRequest chunk
// carries (the .proto's 1 MiB).
inline constexpr int64_t kModelFileChunkBytes = int64_t{1} << 20;

// The largest model file the server accepts when models may have up to
// `max_parameters` parameters: 16 bytes per parameter (its float32 value,
// plus running statistics and optimizer state, which the native format
// carries: at most 3 more floats per parameter) and 1 MiB for the rest,
// capped below 2 GiB (protobuf's limit for the file as one message).
int64_t MaxModelFileBytes(int64_t max_parameters);

// zlib's CRC-32 of `bytes`.
uint32_t FileCrc32(absl::string_view bytes);

// A whole file received through ImportModel.
struct ReceivedModelFile {
  v1::ImportModelHeader header;
  std::string bytes;
};

// Reads an ImportModel stream through `read` (false at its end): first the
// header, which `check_header` may refuse before any chunk is read (for a
// bad or taken name), then chunks of at most kModelFileChunkBytes. Errors:
// INVALID_ARGUMENT when the first message is not the header or a later one
// is, for a chunk over 1 MiB, an empty file, a negative size_bytes, a
// stream that runs longer or ends shorter than size_bytes (when > 0), a
// crc32 that does not match (when set); RESOURCE_EXHAUSTED when size_bytes
// or the bytes sent exceed `max_bytes` (checked before they are stored).
absl::StatusOr<ReceivedModelFile> ReceiveModelFile(
    absl::FunctionRef<bool(v1::ImportModelRequest*)> read,
    absl::FunctionRef<absl::Status(const v1::ImportModelHeader&)> check_header,
    int64_t max_bytes);

// Streams `file` through `write` (false when the client is gone) in chunks
// of at most kModelFileChunkBytes; the first message also carries
// size_bytes, `version` and crc32. CANCELLED if a write fails.
absl::Status SendModelFile(
    absl::string_view file, int64_t version,
    absl::FunctionRef<bool(const v1::ExportModelResponse&)> write);

}  // namespace bnmlp

#endif  // BNMLP_SERVER_MODEL_FILES_H_
