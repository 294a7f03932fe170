#include "tests/e2e/support/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace bnmlp::testing {
namespace {

// Runs in the forked child: only async-signal-safe calls until exec.
[[noreturn]] void ExecChild(char* const* argv, const ChildStdio& stdio,
                            pid_t parent, int exec_error_fd) {
  // Dies with the parent thread, so a crashed test leaks no process.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(127);

  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  signal(SIGPIPE, SIG_DFL);  // ignored dispositions survive exec

  const int dev_null = open("/dev/null", O_RDWR);
  const int sources[3] = {stdio.in, stdio.out, stdio.err};
  for (int target = 0; target < 3; ++target) {
    const int source = sources[target] >= 0 ? sources[target] : dev_null;
    if (source == target) {
      fcntl(target, F_SETFD, 0);  // keep it open across exec
    } else if (dup2(source, target) < 0) {
      break;
    }
  }
  execvp(argv[0], argv);
  const int error = errno;
  ssize_t ignored = write(exec_error_fd, &error, sizeof(error));
  (void)ignored;
  _exit(127);
}

}  // namespace

absl::StatusOr<pid_t> SpawnChild(const std::vector<std::string>& argv,
                                 const ChildStdio& stdio) {
  if (argv.empty() || argv[0].empty()) {
    return absl::InvalidArgumentError("SpawnChild: argv[0] is empty");
  }
  // Everything the child needs is allocated before fork.
  std::vector<char*> c_argv;
  c_argv.reserve(argv.size() + 1);
  for (const std::string& arg : argv) {
    c_argv.push_back(const_cast<char*>(arg.c_str()));
  }
  c_argv.push_back(nullptr);

  // The child reports a failed exec through this close-on-exec pipe: EOF
  // without data means the exec succeeded.
  int exec_error_pipe[2];
  if (pipe2(exec_error_pipe, O_CLOEXEC) != 0) {
    return absl::ErrnoToStatus(errno, "SpawnChild: pipe2");
  }
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    const int error = errno;
    close(exec_error_pipe[0]);
    close(exec_error_pipe[1]);
    return absl::ErrnoToStatus(error, "SpawnChild: fork");
  }
  if (pid == 0) {
    close(exec_error_pipe[0]);
    ExecChild(c_argv.data(), stdio, parent, exec_error_pipe[1]);
  }
  close(exec_error_pipe[1]);
  int exec_error = 0;
  ssize_t got;
  do {
    got = read(exec_error_pipe[0], &exec_error, sizeof(exec_error));
  } while (got < 0 && errno == EINTR);
  close(exec_error_pipe[0]);
  if (got > 0) {
    int ignored;
    waitpid(pid, &ignored, 0);
    return absl::ErrnoToStatus(
        exec_error, absl::StrCat("cannot execute '", argv[0], "' (command: ",
                                 absl::StrJoin(argv, " "), ")"));
  }
  return pid;
}

absl::StatusOr<bool> ReapIfExited(pid_t pid, int* wait_status) {
  pid_t got;
  do {
    got = waitpid(pid, wait_status, WNOHANG);
  } while (got < 0 && errno == EINTR);
  if (got < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("waitpid(", pid, ")"));
  }
  return got == pid;
}

absl::StatusOr<int> WaitForChild(pid_t pid, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    int wait_status = 0;
    absl::StatusOr<bool> exited = ReapIfExited(pid, &wait_status);
    if (!exited.ok()) return exited.status();
    if (*exited) return wait_status;
    if (absl::Now() >= deadline) {
      KillAndReap(pid);
      return absl::DeadlineExceededError(
          absl::StrFormat("process %d did not exit within %s; killed it", pid,
                          absl::FormatDuration(timeout)));
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
}

void KillAndReap(pid_t pid) {
  if (pid <= 0) return;
  kill(pid, SIGKILL);
  int ignored;
  while (waitpid(pid, &ignored, 0) < 0 && errno == EINTR) {
  }
}

std::string DescribeWaitStatus(int wait_status) {
  if (WIFEXITED(wait_status)) {
    return absl::StrCat("exit code ", WEXITSTATUS(wait_status));
  }
  if (WIFSIGNALED(wait_status)) {
    const int signal_number = WTERMSIG(wait_status);
    return absl::StrCat("killed by signal ", signal_number, " (",
                        strsignal(signal_number), ")");
  }
  return absl::StrCat("wait status ", wait_status);
}

}  // namespace bnmlp::testing
