// Starting, waiting for and killing child processes in tests.
//
// Tests start real binaries (bnmlp-server, the bnmlp CLI) and must never
// leak them: every child started here receives SIGKILL if the thread that
// started it exits (PR_SET_PDEATHSIG), and callers reap what they start.
#ifndef BNMLP_TESTS_E2E_SUPPORT_CHILD_PROCESS_H_
#define BNMLP_TESTS_E2E_SUPPORT_CHILD_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace bnmlp::testing {

// File descriptors the child gets as stdin, stdout and stderr; -1 means
// /dev/null. The caller keeps ownership (they are duplicated into the child).
struct ChildStdio {
  int in = -1;
  int out = -1;
  int err = -1;
};

// Starts argv[0] (searched in PATH when it has no slash) with `argv`, a clean
// signal mask and default signal dispositions. OK means the exec succeeded;
// a binary that cannot be executed is an error naming it (NOT_FOUND when it
// does not exist). Thread-safe.
absl::StatusOr<pid_t> SpawnChild(const std::vector<std::string>& argv,
                                 const ChildStdio& stdio);

// Waits up to `timeout` for `pid` to exit and reaps it, returning the raw
// wait status (WIFEXITED etc.). On timeout the child is killed and reaped and
// the result is DEADLINE_EXCEEDED.
absl::StatusOr<int> WaitForChild(pid_t pid, absl::Duration timeout);

// OK(true) and the wait status in `*wait_status` if `pid` has exited (and is
// now reaped), OK(false) if it is still running.
absl::StatusOr<bool> ReapIfExited(pid_t pid, int* wait_status);

// SIGKILL, then reap. Safe on a child that already exited but is not reaped.
void KillAndReap(pid_t pid);

// "exit code 3" / "killed by signal 9 (Killed)": for error messages.
std::string DescribeWaitStatus(int wait_status);

}  // namespace bnmlp::testing

#endif  // BNMLP_TESTS_E2E_SUPPORT_CHILD_PROCESS_H_
