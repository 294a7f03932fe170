// Turns Ctrl-C (SIGINT) into a call of an ordinary function on an ordinary
// thread, where it may take locks and cancel RPCs: the signal handler only
// writes a byte to a pipe (async-signal-safe); a watcher thread reads it.
#ifndef BNMLP_CLIENT_CLI_SIGINT_WATCHER_H_
#define BNMLP_CLIENT_CLI_SIGINT_WATCHER_H_

#include <signal.h>

#include <atomic>
#include <functional>
#include <memory>
#include <thread>

#include "absl/status/statusor.h"

namespace bnmlp::cli {

// While alive, the first SIGINT runs `on_sigint` once on the watcher
// thread; the handler is installed with SA_RESETHAND, so a second Ctrl-C
// kills the process the default way (for a user who does not want to wait).
// At most one watcher may exist at a time (the signal handler is process-
// wide). The destructor restores the previous SIGINT disposition and joins
// the thread; `on_sigint` must not destroy the watcher.
class SigintWatcher {
 public:
  // FAILED_PRECONDITION if another watcher exists; INTERNAL if the pipe or
  // the handler cannot be set up.
  static absl::StatusOr<std::unique_ptr<SigintWatcher>> Start(
      std::function<void()> on_sigint);
  ~SigintWatcher();
  SigintWatcher(const SigintWatcher&) = delete;
  SigintWatcher& operator=(const SigintWatcher&) = delete;

  // True once SIGINT arrived (`on_sigint` may still be running).
  bool interrupted() const { return interrupted_.load(); }

 private:
  SigintWatcher(std::function<void()> on_sigint, int read_fd, int write_fd);
  void Watch();

  std::function<void()> on_sigint_;
  const int read_fd_;
  const int write_fd_;
  struct sigaction previous_action_ {};
  std::atomic<bool> interrupted_{false};
  std::thread thread_;
};

}  // namespace bnmlp::cli

#endif  // BNMLP_CLIENT_CLI_SIGINT_WATCHER_H_
