#include "data/compressed_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace bnmlp::data {
namespace {

// zlib's own input buffer, and how much we ask gzread for at a time: large
// reads keep the per-call overhead negligible next to inflate itself.
constexpr unsigned kZlibBufferBytes = 1u << 20;
constexpr int64_t kReadChunkBytes = int64_t{8} << 20;
// Deflate cannot expand data more than about 1032-fold.
constexpr int64_t kMaxDeflateRatio = 1032;

struct GzCloser {
  void operator()(gzFile file) const { gzclose_r(file); }
};
using GzFile = std::unique_ptr<gzFile_s, GzCloser>;

// How many bytes reading `fd` will probably give: for a gzip file the size
// its trailer announces (ISIZE: the last member's size mod 2^32), otherwise
// the size on disk. Only a hint for reserving memory once, so it is capped
// by what the file can possibly hold and never trusted beyond that.
int64_t ExpectedContentSize(int fd, int64_t size_on_disk) {
  unsigned char magic[2];
  unsigned char trailer[4];
  constexpr int64_t kMinGzipBytes = 18;  // header 10 + trailer 8
  if (size_on_disk < kMinGzipBytes || pread(fd, magic, 2, 0) != 2 ||
      magic[0] != 0x1f || magic[1] != 0x8b ||
      pread(fd, trailer, 4, size_on_disk - 4) != 4) {
    return size_on_disk;
  }
  const int64_t announced = int64_t{trailer[0]} | int64_t{trailer[1]} << 8 |
                            int64_t{trailer[2]} << 16 |
                            int64_t{trailer[3]} << 24;
  return std::min(announced, size_on_disk * kMaxDeflateRatio);
}

// Opens `path` for reading; on success *expected_size is
// ExpectedContentSize's hint.
absl::StatusOr<GzFile> Open(const std::string& path, int64_t* expected_size) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot open ", path));
  }
  struct stat info;
  if (fstat(fd, &info) != 0) {
    const int error = errno;
    close(fd);
    return absl::ErrnoToStatus(error, absl::StrCat("cannot stat ", path));
  }
  if (S_ISDIR(info.st_mode)) {
    close(fd);
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": is a directory; expected a data file"));
  }
  *expected_size = ExpectedContentSize(fd, info.st_size);
  gzFile file = gzdopen(fd, "rb");  // takes ownership of fd on success
  if (file == nullptr) {
    close(fd);
    return absl::ResourceExhaustedError(
        absl::StrCat(path, ": out of memory opening the file"));
  }
  // Must come before the first read (zlib's rule).
  gzbuffer(file, kZlibBufferBytes);
  return GzFile(file);
}

// The status for the zlib error `code` (with gzerror's `message`) that
// ended reading `path` after `decompressed_bytes`.
absl::Status ZlibError(const std::string& path, gzFile file, int code,
                       absl::string_view message, size_t decompressed_bytes) {
  const int read_errno = errno;
  // gzdopen'ed files call themselves "<fd:N>"; the path says it better.
  const size_t name_end = message.find(">: ");
  if (absl::StartsWith(message, "<fd:") && name_end != message.npos) {
    message.remove_prefix(name_end + 3);
  }
  const std::string after =
      absl::StrCat("after ", decompressed_bytes, " decompressed bytes");
  const z_off_t offset = gzoffset(file);  // -1 for pipes
  const std::string where =
      offset >= 0 ? absl::StrCat(path, ": at compressed byte offset ", offset,
                                 " (", after, ")")
                  : absl::StrCat(path, ": ", after);
  switch (code) {
    case Z_ERRNO:
      return absl::ErrnoToStatus(read_errno,
                                 absl::StrCat(path, ": read failed"));
    case Z_MEM_ERROR:
      return absl::ResourceExhaustedError(
          absl::StrCat(path, ": out of memory decompressing"));
    case Z_BUF_ERROR:
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": gzip stream is truncated (", message,
          "); expected the rest of the compressed data and its trailer"));
    default:
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": corrupt gzip data (", message,
                       "); expected a valid deflate stream"));
  }
}

// Appends everything `file` yields to `bytes`; false once it holds more
// than `max_bytes`. Reads stay within the reserved capacity while it lasts,
// so a good size hint means a single allocation.
bool ReadAll(gzFile file, int64_t max_bytes, std::string* bytes) {
  while (true) {
    const int64_t used = static_cast<int64_t>(bytes->size());
    const int64_t spare = static_cast<int64_t>(bytes->capacity()) - used;
    const int64_t wanted =
        spare > 0 ? std::min(spare, kReadChunkBytes) : kReadChunkBytes;
    // Up to one byte past the limit, to tell "exactly max_bytes" from more.
    const int64_t room = std::min(wanted - 1, max_bytes - used) + 1;
    bytes->resize(used + room);
    const int got =
        gzread(file, bytes->data() + used, static_cast<unsigned>(room));
    bytes->resize(used + std::max(got, 0));
    if (got <= 0) return true;
    if (static_cast<int64_t>(bytes->size()) > max_bytes) return false;
  }
}

}  // namespace

absl::StatusOr<FileContents> ReadMaybeCompressedFile(const std::string& path,
                                                     int64_t max_bytes) {
  if (max_bytes < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_bytes is ", max_bytes, "; expected >= 0"));
  }
  int64_t expected_size = 0;
  absl::StatusOr<GzFile> file = Open(path, &expected_size);
  if (!file.ok()) return file.status();
  gzFile gz = file->get();

  FileContents contents;
  contents.gzip = gzdirect(gz) == 0;
  // One byte more, for the read that finds the end of the file.
  contents.bytes.reserve(std::min(expected_size, max_bytes) + 1);
  if (!ReadAll(gz, max_bytes, &contents.bytes)) {
    return absl::ResourceExhaustedError(absl::StrCat(
        path, ": file is larger than the reader's limit of ", max_bytes,
        " bytes", contents.gzip ? " decompressed" : ""));
  }
  int code = Z_OK;
  const char* message = gzerror(gz, &code);
  if (code != Z_OK) {
    return ZlibError(path, gz, code, message, contents.bytes.size());
  }
  return contents;
}

}  // namespace bnmlp::data
