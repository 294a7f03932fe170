#include "server/shutdown_signal.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>

namespace bnmlp {
namespace {

// The handler only writes the signal number into this pipe, which is
// async-signal-safe; the waiting thread reads it.
int signal_pipe[2] = {-1, -1};

void OnShutdownSignal(int signal_number) {
  const unsigned char byte = static_cast<unsigned char>(signal_number);
  ssize_t ignored = write(signal_pipe[1], &byte, 1);
  (void)ignored;
}

sigset_t ShutdownSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  return signals;
}

}  // namespace

absl::Status InstallShutdownSignalHandlers() {
  if (signal_pipe[0] >= 0) {
    return absl::FailedPreconditionError(
        "shutdown signal handlers are already installed");
  }
  if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    return absl::ErrnoToStatus(errno, "pipe2 for the signal handler");
  }
  struct sigaction action = {};
  action.sa_handler = OnShutdownSignal;
  action.sa_flags = SA_RESTART;
  sigemptyset(&action.sa_mask);
  for (int signal_number : {SIGINT, SIGTERM}) {
    if (sigaction(signal_number, &action, nullptr) != 0) {
      return absl::ErrnoToStatus(errno, "sigaction");
    }
  }
  const sigset_t signals = ShutdownSignals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return absl::OkStatus();
}

int WaitForShutdownSignal() {
  const sigset_t signals = ShutdownSignals();
  pthread_sigmask(SIG_UNBLOCK, &signals, nullptr);
  while (true) {
    // A bounded poll rather than a plain blocking read: ThreadSanitizer
    // defers signal handlers until the interrupted call returns, and a
    // read() on an empty pipe would never return.
    pollfd readable = {signal_pipe[0], POLLIN, 0};
    poll(&readable, 1, /*timeout_ms=*/250);
    unsigned char byte = 0;
    if (read(signal_pipe[0], &byte, 1) == 1) return byte;
  }
}

}  // namespace bnmlp
