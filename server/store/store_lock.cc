#include "server/store/store_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace bnmlp {
namespace {

// "pid=123 host=box started=2026-..." of this process.
std::string Identity() {
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  return absl::StrCat(
      "pid=", getpid(), " host=", host, " started=",
      absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone()));
}

// The identity the holder of `fd`'s lock wrote, or "unknown".
std::string HolderIdentity(int fd) {
  char holder[512] = {};
  const ssize_t n = pread(fd, holder, sizeof(holder) - 1, 0);
  std::string who = n > 0 ? std::string(holder, static_cast<size_t>(n)) : "";
  while (!who.empty() && who.back() == '\n') who.pop_back();
  return who.empty() ? "unknown" : who;
}

}  // namespace

absl::StatusOr<std::unique_ptr<StoreLock>> StoreLock::Acquire(
    const std::string& directory) {
  const std::string path = directory + "/LOCK";
  const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("--model_dir: cannot open the lock file ", path, ": ",
                     std::strerror(errno)));
  }
  // From here on, `lock` closes `fd` on every path.
  std::unique_ptr<StoreLock> lock(new StoreLock(fd));
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    if (error == EWOULDBLOCK) {
      return absl::FailedPreconditionError(absl::StrCat(
          "--model_dir: the model store ", directory,
          " is in use by another bnmlp-server (", HolderIdentity(fd),
          "); one writer per store: stop it, or start this one with "
          "--read_only"));
    }
    return absl::FailedPreconditionError(absl::StrCat(
        "--model_dir: cannot lock ", path, ": ", std::strerror(error)));
  }
  const std::string identity = Identity() + "\n";
  if (ftruncate(fd, 0) != 0 ||
      pwrite(fd, identity.data(), identity.size(), 0) !=
          static_cast<ssize_t>(identity.size())) {
    const int error = errno;
    return absl::ErrnoToStatus(
        error, absl::StrCat("--model_dir: cannot write ", path));
  }
  return lock;
}

StoreLock::~StoreLock() { close(fd_); }

}  // namespace bnmlp
