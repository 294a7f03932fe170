#include "server/generated_token.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "server/token_auth.h"

namespace bnmlp {
namespace {

std::string ErrnoText() { return std::strerror(errno); }

// The directory part of `path` ("" if it has none).
std::string Directory(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash);
}

absl::Status EnsurePrivateDirectory(const std::string& directory) {
  if (directory.empty()) return absl::OkStatus();
  if (mkdir(directory.c_str(), 0700) == 0 || errno == EEXIST) {
    return absl::OkStatus();
  }
  return absl::UnavailableError(
      absl::StrCat("cannot create the directory ", directory,
                   " for the generated token: ", ErrnoText()));
}

absl::Status CheckPrivate(const std::string& path, const struct stat& info) {
  if (!S_ISREG(info.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the generated token file ", path, " is not a regular file"));
  }
  if ((info.st_mode & 077) != 0 || info.st_uid != geteuid()) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "the generated token file %s is open to others (mode %04o, owner "
        "uid %d): its token may have leaked; remove the file to get a new "
        "token, or chmod 600 it if it is safe",
        path, info.st_mode & 07777, info.st_uid));
  }
  return absl::OkStatus();
}

absl::Status WriteNewTokenFile(const std::string& path) {
  BNMLP_ASSIGN_OR_RETURN(const std::string token, GenerateToken());
  const std::string contents = absl::StrCat(
      "# Made by bnmlp-server: a writer token. Pass this file to clients "
      "with\n# bnmlp --token_file; delete it to get a new token at the next "
      "start.\n",
      token, " writer\n");
  const int fd = open(
      path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot create the generated token file ", path, ": ", ErrnoText()));
  }
  const bool written = fchmod(fd, 0600) == 0 &&
                       write(fd, contents.data(), contents.size()) ==
                           static_cast<ssize_t>(contents.size()) &&
                       fsync(fd) == 0;
  const std::string error = ErrnoText();
  close(fd);
  if (!written) {
    unlink(path.c_str());
    return absl::UnavailableError(absl::StrCat(
        "cannot write the generated token file ", path, ": ", error));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> DefaultGeneratedTokenPath(
    absl::string_view model_dir) {
  if (!model_dir.empty()) return absl::StrCat(model_dir, "/server_token");
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0') {
    return absl::FailedPreconditionError(
        "no place for the generated token: $HOME is not set and there is no "
        "--model_dir; pass --generated_token_file or --auth_tokens_file");
  }
  return absl::StrCat(home, "/.bnmlp/server_token");
}

absl::StatusOr<GeneratedTokenFile> EnsureGeneratedTokenFile(
    const std::string& path) {
  struct stat info;
  if (lstat(path.c_str(), &info) == 0) {
    BNMLP_RETURN_IF_ERROR(CheckPrivate(path, info));
    return GeneratedTokenFile{path, false};
  }
  if (errno != ENOENT) {
    return absl::UnavailableError(absl::StrCat(
        "cannot look at the generated token file ", path, ": ", ErrnoText()));
  }
  BNMLP_RETURN_IF_ERROR(EnsurePrivateDirectory(Directory(path)));
  BNMLP_RETURN_IF_ERROR(WriteNewTokenFile(path));
  return GeneratedTokenFile{path, true};
}

}  // namespace bnmlp
