#include "client/cli/sigint_watcher.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <utility>

#include "absl/memory/memory.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace bnmlp::cli {
namespace {

constexpr char kSigintByte = 'I';
constexpr char kStopByte = 'Q';

// The write end of the live watcher's pipe, -1 when there is none. Atomic
// so the handler reads a consistent value without locks.
std::atomic<int> g_signal_write_fd{-1};

extern "C" void WriteSigintByte(int /*signal*/) {
  const int saved_errno = errno;
  const int fd = g_signal_write_fd.load();
  if (fd >= 0) {
    // Nothing useful can be done about a failed write inside a handler.
    [[maybe_unused]] const ssize_t n = write(fd, &kSigintByte, 1);
  }
  errno = saved_errno;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SigintWatcher>> SigintWatcher::Start(
    std::function<void()> on_sigint) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    return absl::InternalError(
        absl::StrCat("SigintWatcher: pipe2 failed: ", strerror(errno)));
  }
  int expected = -1;
  if (!g_signal_write_fd.compare_exchange_strong(expected, fds[1])) {
    close(fds[0]);
    close(fds[1]);
    return absl::FailedPreconditionError(
        "SigintWatcher: another watcher is already installed");
  }
  auto watcher =
      absl::WrapUnique(new SigintWatcher(std::move(on_sigint), fds[0], fds[1]));
  struct sigaction action {};
  action.sa_handler = WriteSigintByte;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART | SA_RESETHAND;
  if (sigaction(SIGINT, &action, &watcher->previous_action_) != 0) {
    return absl::InternalError(
        absl::StrCat("SigintWatcher: sigaction failed: ", strerror(errno)));
  }
  watcher->thread_ = std::thread(&SigintWatcher::Watch, watcher.get());
  return watcher;
}

SigintWatcher::SigintWatcher(std::function<void()> on_sigint, int read_fd,
                             int write_fd)
    : on_sigint_(std::move(on_sigint)),
      read_fd_(read_fd),
      write_fd_(write_fd) {}

SigintWatcher::~SigintWatcher() {
  sigaction(SIGINT, &previous_action_, nullptr);
  g_signal_write_fd.store(-1);
  if (thread_.joinable()) {
    [[maybe_unused]] const ssize_t n = write(write_fd_, &kStopByte, 1);
    thread_.join();
  }
  close(read_fd_);
  close(write_fd_);
}

void SigintWatcher::Watch() {
  char byte = 0;
  while (true) {
    const ssize_t n = read(read_fd_, &byte, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || byte == kStopByte) return;
    if (byte == kSigintByte && !interrupted_.exchange(true)) on_sigint_();
  }
}

}  // namespace bnmlp::cli
