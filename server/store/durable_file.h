// Files that survive a crash whole or not at all, framed and checksummed.
//
// Every file of the model store is written the same way: to a temporary
// file beside its final name, fsync'd, renamed over the final name, and the
// directory fsync'd, so after a crash the name holds either the old bytes or
// the new ones, never a mix; and framed as
//
//   offset  size  field
//   0       8     magic: what the file is (e.g. "BNMLPMDL")
//   8       4     format version, little-endian uint32
//   12      8     payload length in bytes, little-endian uint64
//   20      n     payload
//   20 + n  4     zlib CRC-32 of the payload, little-endian uint32
//
// so that a torn, truncated or corrupted file is detected when read (a
// rename makes a file atomic on POSIX file systems, but a disk or a copy
// can still damage it).
#ifndef BNMLP_SERVER_STORE_DURABLE_FILE_H_
#define BNMLP_SERVER_STORE_DURABLE_FILE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace bnmlp {

inline constexpr size_t kMagicSize = 8;
inline constexpr size_t kFrameHeaderSize = kMagicSize + 4 + 8;
inline constexpr size_t kFrameTrailerSize = 4;

// The temporary files of this module end in this suffix (plus a unique
// part); directory scans skip them and cleanup may delete them.
inline constexpr absl::string_view kTemporarySuffix = ".tmp";

// Writes one framed file. Stream the payload with Append (its total must be
// the length given to Open), then Commit. Destroying a writer that was not
// committed removes its temporary file: the final name is never touched.
// Not thread-safe. Errors name the path and the system's reason; a full disk
// is RESOURCE_EXHAUSTED, anything else UNAVAILABLE or the errno's code.
class DurableFileWriter {
 public:
  static absl::StatusOr<std::unique_ptr<DurableFileWriter>> Open(
      const std::string& path, absl::string_view magic, uint32_t version,
      uint64_t payload_size);
  ~DurableFileWriter();
  DurableFileWriter(const DurableFileWriter&) = delete;
  DurableFileWriter& operator=(const DurableFileWriter&) = delete;

  absl::Status Append(absl::string_view bytes);
  // Writes the trailer, fsyncs, renames over the final path and fsyncs the
  // directory. FAILED_PRECONDITION if the payload is not exactly the size
  // announced. After OK the file is durable.
  absl::Status Commit();

  const std::string& path() const { return path_; }

 private:
  DurableFileWriter(std::string path, std::string temporary, int fd,
                    uint64_t payload_size);
  absl::Status WriteAll(absl::string_view bytes);

  const std::string path_;
  const std::string temporary_;
  int fd_;  // of temporary_; -1 once closed
  const uint64_t payload_size_;
  uint64_t written_ = 0;
  uint32_t crc_;
  bool committed_ = false;
};

// Writes a whole framed file from memory (DurableFileWriter in one go).
absl::Status WriteDurableFile(const std::string& path, absl::string_view magic,
                              uint32_t version, absl::string_view payload);

// The bytes WriteDurableFile would put in the file, in memory (an export
// of the same bytes). `magic` must have kMagicSize characters.
std::string FrameInMemory(absl::string_view magic, uint32_t version,
                          absl::string_view payload);

// A framed file's header, checked.
struct FrameInfo {
  uint32_t version = 0;
  uint64_t payload_size = 0;
};

// Reads and checks a framed file: the magic must match, the version must be
// in [min_version, max_version], the file's size must be exactly header +
// payload + trailer, and the CRC-32 must match. DATA_LOSS naming the path
// and what is wrong otherwise (NOT_FOUND if the file does not exist).
// `max_payload` bounds what is read into memory (RESOURCE_EXHAUSTED
// beyond), so a damaged length field cannot make the reader allocate it.
absl::StatusOr<std::string> ReadDurableFile(
    const std::string& path, absl::string_view magic, uint32_t min_version,
    uint32_t max_version, uint64_t max_payload, FrameInfo* info = nullptr);

// The same checks on a framed file held in memory (an uploaded export).
// Returns a view of the payload inside `bytes`.
absl::StatusOr<absl::string_view> ParseDurableFrame(absl::string_view bytes,
                                                    absl::string_view magic,
                                                    uint32_t min_version,
                                                    uint32_t max_version,
                                                    FrameInfo* info = nullptr);

// fsync of a directory, so a rename or unlink in it is durable.
absl::Status SyncDirectory(const std::string& directory);

// Renames `from` to `to` (both in existing directories) and makes the
// change durable by syncing their directories.
absl::Status RenameDurably(const std::string& from, const std::string& to);

}  // namespace bnmlp

#endif  // BNMLP_SERVER_STORE_DURABLE_FILE_H_
