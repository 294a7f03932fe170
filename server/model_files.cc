#include "server/model_files.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "zlib.h"

namespace bnmlp {
namespace {

absl::Status CheckHeader(const v1::ImportModelHeader& header,
                         int64_t max_bytes) {
  if (header.size_bytes() < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "header.size_bytes: expected >= 0, got ", header.size_bytes()));
  }
  if (header.size_bytes() > max_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "header.size_bytes: the file has ", header.size_bytes(),
        " bytes, more than this server accepts (", max_bytes,
        " bytes for models of at most --max_parameters parameters)"));
  }
  return absl::OkStatus();
}

// Appends one chunk, checking it against the declared and allowed sizes.
absl::Status AddChunk(const std::string& chunk, int64_t message,
                      int64_t max_bytes, ReceivedModelFile& file) {
  if (static_cast<int64_t>(chunk.size()) > kModelFileChunkBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("chunk (message ", message, "): expected at most ",
                     kModelFileChunkBytes, " bytes, got ", chunk.size()));
  }
  const int64_t total = static_cast<int64_t>(file.bytes.size() + chunk.size());
  const int64_t declared = file.header.size_bytes();
  if (declared > 0 && total > declared) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the stream runs longer than header.size_bytes (", declared,
        " bytes): message ", message, " brings it to ", total));
  }
  if (total > max_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the file exceeds ", max_bytes,
        " bytes, the most this server accepts (for models of at most "
        "--max_parameters parameters)"));
  }
  file.bytes.append(chunk);
  return absl::OkStatus();
}

absl::Status CheckComplete(const ReceivedModelFile& file) {
  const int64_t size = static_cast<int64_t>(file.bytes.size());
  if (size == 0) {
    return absl::InvalidArgumentError(
        "the file is empty: no chunk followed the header");
  }
  const int64_t declared = file.header.size_bytes();
  if (declared > 0 && size != declared) {
    return absl::InvalidArgumentError(
        absl::StrCat("the stream ended after ", size,
                     " bytes, short of header.size_bytes (", declared, ")"));
  }
  if (file.header.has_crc32()) {
    const uint32_t crc = FileCrc32(file.bytes);
    if (crc != file.header.crc32()) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "header.crc32: the file's CRC-32 is %08x, the header says %08x "
          "(the file was corrupted or is not the one described)",
          crc, file.header.crc32()));
    }
  }
  return absl::OkStatus();
}

}  // namespace

int64_t MaxModelFileBytes(int64_t max_parameters) {
  constexpr int64_t kCap = std::numeric_limits<int32_t>::max();
  constexpr int64_t kOverhead = int64_t{1} << 20;
  if (max_parameters > (kCap - kOverhead) / 16) return kCap;
  return 16 * max_parameters + kOverhead;
}

uint32_t FileCrc32(absl::string_view bytes) {
  uLong crc = crc32(0L, Z_NULL, 0);
  while (!bytes.empty()) {
    const size_t n = std::min<size_t>(bytes.size(), 1u << 30);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(bytes.data()),
                static_cast<uInt>(n));
    bytes.remove_prefix(n);
  }
  return static_cast<uint32_t>(crc);
}

absl::StatusOr<ReceivedModelFile> ReceiveModelFile(
    absl::FunctionRef<bool(v1::ImportModelRequest*)> read,
    absl::FunctionRef<absl::Status(const v1::ImportModelHeader&)> check_header,
    int64_t max_bytes) {
  v1::ImportModelRequest request;
  if (!read(&request)) {
    return absl::InvalidArgumentError(
        "the stream ended before its first message, the header");
  }
  if (!request.has_header()) {
    return absl::InvalidArgumentError(
        "the first message must be the header (name, format, ...); got a "
        "chunk");
  }
  ReceivedModelFile file;
  file.header = request.header();
  BNMLP_RETURN_IF_ERROR(CheckHeader(file.header, max_bytes));
  BNMLP_RETURN_IF_ERROR(check_header(file.header));
  if (file.header.size_bytes() > 0) {
    file.bytes.reserve(static_cast<size_t>(file.header.size_bytes()));
  }
  for (int64_t message = 1; read(&request); ++message) {
    if (request.has_header()) {
      return absl::InvalidArgumentError(
          absl::StrCat("message ", message,
                       " is a second header; only the first "
                       "message carries one"));
    }
    BNMLP_RETURN_IF_ERROR(AddChunk(request.chunk(), message, max_bytes, file));
  }
  BNMLP_RETURN_IF_ERROR(CheckComplete(file));
  return file;
}

absl::Status SendModelFile(
    absl::string_view file, int64_t version,
    absl::FunctionRef<bool(const v1::ExportModelResponse&)> write) {
  size_t offset = 0;
  do {
    const size_t n = std::min<size_t>(
        file.size() - offset, static_cast<size_t>(kModelFileChunkBytes));
    v1::ExportModelResponse response;
    response.set_chunk(std::string(file.substr(offset, n)));
    if (offset == 0) {
      response.set_size_bytes(static_cast<int64_t>(file.size()));
      response.set_version(version);
      response.set_crc32(FileCrc32(file));
    }
    if (!write(response)) {
      return absl::CancelledError(
          absl::StrCat("the client stopped reading the file after ", offset,
                       " of ", file.size(), " bytes"));
    }
    offset += n;
  } while (offset < file.size());
  return absl::OkStatus();
}

}  // namespace bnmlp
