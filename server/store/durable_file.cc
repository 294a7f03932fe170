#include "server/store/durable_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/base/internal/endian.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace bnmlp {
namespace {

// An errno as a Status naming what was being done to which path: a full
// disk or quota is RESOURCE_EXHAUSTED (the client should free space), a
// missing file NOT_FOUND, a permission problem PERMISSION_DENIED... as
// absl's errno mapping says; anything else keeps absl's code.
absl::Status ErrnoStatus(int error, absl::string_view what,
                         absl::string_view path) {
  // ErrnoToStatus appends ": <strerror>" itself.
  return absl::ErrnoToStatus(error, absl::StrCat(what, " ", path));
}

std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// "<path>.tmp.<pid>.<n>": unique per process and call, in the same
// directory as `path` (rename is atomic only within one file system).
std::string TemporaryName(const std::string& path) {
  static std::atomic<uint64_t> counter{0};
  return absl::StrCat(path, kTemporarySuffix, ".", getpid(), ".",
                      counter.fetch_add(1));
}

uint32_t Crc32(uint32_t crc, absl::string_view bytes) {
  // crc32_z takes a size_t length: no 4 GiB limit per call.
  return static_cast<uint32_t>(
      crc32_z(crc, reinterpret_cast<const Bytef*>(bytes.data()), bytes.size()));
}

std::string EncodeHeader(absl::string_view magic, uint32_t version,
                         uint64_t payload_size) {
  std::string header(kFrameHeaderSize, '\0');
  std::memcpy(header.data(), magic.data(), kMagicSize);
  absl::little_endian::Store32(header.data() + kMagicSize, version);
  absl::little_endian::Store64(header.data() + kMagicSize + 4, payload_size);
  return header;
}

absl::Status DataLoss(absl::string_view path, absl::string_view why) {
  return absl::DataLossError(absl::StrCat(path, ": ", why));
}

// Checks a header against the expected magic and versions.
absl::StatusOr<FrameInfo> DecodeHeader(absl::string_view header,
                                       absl::string_view magic,
                                       uint32_t min_version,
                                       uint32_t max_version,
                                       absl::string_view path) {
  if (header.size() < kFrameHeaderSize) {
    return DataLoss(path, absl::StrCat("truncated: ", header.size(),
                                       " bytes, shorter than the ",
                                       kFrameHeaderSize, "-byte header"));
  }
  if (header.substr(0, kMagicSize) != magic) {
    return DataLoss(
        path,
        absl::StrCat("not a '", magic, "' file (starts with '",
                     absl::CHexEscape(header.substr(0, kMagicSize)), "')"));
  }
  FrameInfo info;
  info.version = absl::little_endian::Load32(header.data() + kMagicSize);
  info.payload_size =
      absl::little_endian::Load64(header.data() + kMagicSize + 4);
  if (info.version < min_version || info.version > max_version) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": format version ", info.version,
                     "; this build reads ", min_version, " to ", max_version));
  }
  return info;
}

}  // namespace

DurableFileWriter::DurableFileWriter(std::string path, std::string temporary,
                                     int fd, uint64_t payload_size)
    : path_(std::move(path)),
      temporary_(std::move(temporary)),
      fd_(fd),
      payload_size_(payload_size),
      crc_(static_cast<uint32_t>(crc32_z(0, Z_NULL, 0))) {}

DurableFileWriter::~DurableFileWriter() {
  if (fd_ >= 0) close(fd_);
  if (!committed_) unlink(temporary_.c_str());
}

absl::StatusOr<std::unique_ptr<DurableFileWriter>> DurableFileWriter::Open(
    const std::string& path, absl::string_view magic, uint32_t version,
    uint64_t payload_size) {
  if (magic.size() != kMagicSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("magic must be ", kMagicSize, " bytes"));
  }
  std::string temporary = TemporaryName(path);
  const int fd =
      open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (fd < 0) return ErrnoStatus(errno, "cannot create", temporary);
  std::unique_ptr<DurableFileWriter> writer(
      new DurableFileWriter(path, std::move(temporary), fd, payload_size));
  BNMLP_RETURN_IF_ERROR(
      writer->WriteAll(EncodeHeader(magic, version, payload_size)));
  return writer;
}

absl::Status DurableFileWriter::WriteAll(absl::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = write(fd_, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "cannot write", temporary_);
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::Status DurableFileWriter::Append(absl::string_view bytes) {
  if (bytes.size() > payload_size_ - written_) {
    return absl::FailedPreconditionError(
        absl::StrCat(path_, ": payload longer than the ", payload_size_,
                     " bytes announced"));
  }
  BNMLP_RETURN_IF_ERROR(WriteAll(bytes));
  crc_ = Crc32(crc_, bytes);
  written_ += bytes.size();
  return absl::OkStatus();
}

absl::Status DurableFileWriter::Commit() {
  if (written_ != payload_size_) {
    return absl::FailedPreconditionError(
        absl::StrCat(path_, ": payload of ", written_, " bytes, ",
                     payload_size_, " announced"));
  }
  char trailer[kFrameTrailerSize];
  absl::little_endian::Store32(trailer, crc_);
  BNMLP_RETURN_IF_ERROR(WriteAll(absl::string_view(trailer, sizeof(trailer))));
  if (fsync(fd_) != 0) return ErrnoStatus(errno, "cannot fsync", temporary_);
  const int fd = fd_;
  fd_ = -1;
  if (close(fd) != 0) return ErrnoStatus(errno, "cannot close", temporary_);
  if (rename(temporary_.c_str(), path_.c_str()) != 0) {
    return ErrnoStatus(errno, "cannot rename into place", path_);
  }
  committed_ = true;
  return SyncDirectory(DirectoryOf(path_));
}

absl::Status WriteDurableFile(const std::string& path, absl::string_view magic,
                              uint32_t version, absl::string_view payload) {
  BNMLP_ASSIGN_OR_RETURN(
      std::unique_ptr<DurableFileWriter> writer,
      DurableFileWriter::Open(path, magic, version, payload.size()));
  BNMLP_RETURN_IF_ERROR(writer->Append(payload));
  return writer->Commit();
}

std::string FrameInMemory(absl::string_view magic, uint32_t version,
                          absl::string_view payload) {
  std::string framed = EncodeHeader(magic, version, payload.size());
  framed.reserve(kFrameHeaderSize + payload.size() + kFrameTrailerSize);
  framed.append(payload.data(), payload.size());
  char trailer[kFrameTrailerSize];
  absl::little_endian::Store32(trailer, Crc32(Crc32(0, {}), payload));
  framed.append(trailer, kFrameTrailerSize);
  return framed;
}

absl::StatusOr<absl::string_view> ParseDurableFrame(absl::string_view bytes,
                                                    absl::string_view magic,
                                                    uint32_t min_version,
                                                    uint32_t max_version,
                                                    FrameInfo* info) {
  BNMLP_ASSIGN_OR_RETURN(
      FrameInfo frame,
      DecodeHeader(bytes, magic, min_version, max_version, "file"));
  const uint64_t body = bytes.size() - kFrameHeaderSize;
  if (body < kFrameTrailerSize ||
      frame.payload_size != body - kFrameTrailerSize) {
    return DataLoss("file", absl::StrCat(bytes.size(),
                                         " bytes; the header "
                                         "announces a ",
                                         frame.payload_size,
                                         "-byte payload (truncated or torn)"));
  }
  const absl::string_view payload =
      bytes.substr(kFrameHeaderSize, frame.payload_size);
  const uint32_t stored = absl::little_endian::Load32(
      bytes.data() + kFrameHeaderSize + frame.payload_size);
  const uint32_t computed = Crc32(Crc32(0, {}), payload);
  if (stored != computed) {
    return DataLoss(
        "file", absl::StrCat("checksum mismatch (stored ",
                             absl::Hex(stored, absl::kZeroPad8), ", computed ",
                             absl::Hex(computed, absl::kZeroPad8),
                             "): the file is corrupt"));
  }
  if (info != nullptr) *info = frame;
  return payload;
}

absl::StatusOr<std::string> ReadDurableFile(
    const std::string& path, absl::string_view magic, uint32_t min_version,
    uint32_t max_version, uint64_t max_payload, FrameInfo* info) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "cannot open", path);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    const int error = errno;
    close(fd);
    return ErrnoStatus(error, "cannot stat", path);
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size > max_payload + kFrameHeaderSize + kFrameTrailerSize) {
    close(fd);
    return absl::ResourceExhaustedError(
        absl::StrCat(path, ": ", size, " bytes, more than the ", max_payload,
                     "-byte payload this reader accepts"));
  }
  std::string bytes(size, '\0');
  size_t done = 0;
  while (done < size) {
    const ssize_t n = read(fd, bytes.data() + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = n < 0 ? errno : EIO;
      close(fd);
      return ErrnoStatus(error, "cannot read", path);
    }
    done += static_cast<size_t>(n);
  }
  close(fd);
  absl::StatusOr<absl::string_view> payload =
      ParseDurableFrame(bytes, magic, min_version, max_version, info);
  if (!payload.ok()) {
    // Name the file rather than "file".
    std::string message(payload.status().message());
    if (absl::StartsWith(message, "file: ")) message = message.substr(6);
    return absl::Status(payload.status().code(),
                        absl::StrCat(path, ": ", message));
  }
  // The payload is a suffix-trimmed substring: move it out without a copy
  // of the whole file (erase the header and trailer in place).
  bytes.resize(kFrameHeaderSize + payload->size());
  bytes.erase(0, kFrameHeaderSize);
  return bytes;
}

absl::Status SyncDirectory(const std::string& directory) {
  const int fd = open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "cannot open directory", directory);
  const int result = fsync(fd);
  const int error = errno;
  close(fd);
  if (result != 0)
    return ErrnoStatus(error, "cannot fsync directory", directory);
  return absl::OkStatus();
}

absl::Status RenameDurably(const std::string& from, const std::string& to) {
  if (rename(from.c_str(), to.c_str()) != 0) {
    return ErrnoStatus(errno, absl::StrCat("cannot rename ", from, " to"), to);
  }
  BNMLP_RETURN_IF_ERROR(SyncDirectory(DirectoryOf(to)));
  if (DirectoryOf(from) != DirectoryOf(to)) {
    BNMLP_RETURN_IF_ERROR(SyncDirectory(DirectoryOf(from)));
  }
  return absl::OkStatus();
}

}  // namespace bnmlp
