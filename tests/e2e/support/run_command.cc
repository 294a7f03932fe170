#include "tests/e2e/support/run_command.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tests/e2e/support/child_process.h"

namespace bnmlp::testing {
namespace {

// Closes on scope exit; -1 is "nothing".
class ScopedFd {
 public:
  explicit ScopedFd(int fd = -1) : fd_(fd) {}
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;
  ~ScopedFd() { Reset(); }
  int get() const { return fd_; }
  void Reset(int fd = -1) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

struct Pipe {
  ScopedFd read_end;
  ScopedFd write_end;
};

absl::Status MakePipe(Pipe& pipe) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return absl::ErrnoToStatus(errno, "pipe2");
  pipe.read_end.Reset(fds[0]);
  pipe.write_end.Reset(fds[1]);
  return absl::OkStatus();
}

int ExitCode(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

// Shuttles stdin_text into the child and its output out until both output
// pipes reach EOF or `deadline` passes (false).
bool PumpPipes(const std::string& stdin_text, Pipe& in, Pipe& out, Pipe& err,
               absl::Time deadline, CommandResult& result) {
  size_t written = 0;
  if (stdin_text.empty()) in.write_end.Reset();
  char buffer[65536];
  while (out.read_end.get() >= 0 || err.read_end.get() >= 0) {
    pollfd fds[3] = {{in.write_end.get(), POLLOUT, 0},
                     {out.read_end.get(), POLLIN, 0},
                     {err.read_end.get(), POLLIN, 0}};
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return false;
    const int timeout_ms = static_cast<int>(
        std::min<int64_t>(absl::ToInt64Milliseconds(left) + 1, 1000));
    if (poll(fds, 3, timeout_ms) < 0 && errno != EINTR) return false;
    if (fds[0].revents != 0) {
      const ssize_t n = write(in.write_end.get(), stdin_text.data() + written,
                              stdin_text.size() - written);
      if (n > 0) written += static_cast<size_t>(n);
      // EPIPE: the child closed its stdin; it does not want the rest.
      if (n < 0 && errno != EAGAIN && errno != EINTR)
        written = stdin_text.size();
      if (written == stdin_text.size()) in.write_end.Reset();
    }
    ScopedFd* readers[2] = {&out.read_end, &err.read_end};
    std::string* sinks[2] = {&result.stdout_text, &result.stderr_text};
    for (int i = 0; i < 2; ++i) {
      if (fds[i + 1].revents == 0) continue;
      const ssize_t n = read(readers[i]->get(), buffer, sizeof(buffer));
      if (n > 0) {
        sinks[i]->append(buffer, static_cast<size_t>(n));
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        readers[i]->Reset();
      }
    }
  }
  return true;
}

}  // namespace

absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                         const std::string& stdin_text,
                                         absl::Duration timeout) {
  signal(SIGPIPE, SIG_IGN);
  const absl::Time deadline = absl::Now() + timeout;
  Pipe in, out, err;
  for (Pipe* pipe : {&in, &out, &err}) {
    if (absl::Status status = MakePipe(*pipe); !status.ok()) return status;
  }
  absl::StatusOr<pid_t> pid = SpawnChild(
      argv, {in.read_end.get(), out.write_end.get(), err.write_end.get()});
  if (!pid.ok()) return pid.status();
  // Only the child may hold these ends, or EOF never comes.
  in.read_end.Reset();
  out.write_end.Reset();
  err.write_end.Reset();
  fcntl(in.write_end.get(), F_SETFL, O_NONBLOCK);

  CommandResult result;
  if (!PumpPipes(stdin_text, in, out, err, deadline, result)) {
    KillAndReap(*pid);
    return absl::DeadlineExceededError(absl::StrCat(
        "command did not finish within ", absl::FormatDuration(timeout),
        "; killed it: ", absl::StrJoin(argv, " "), "\nstdout so far:\n",
        result.stdout_text, "\nstderr so far:\n", result.stderr_text));
  }
  absl::StatusOr<int> wait_status =
      WaitForChild(*pid, std::max(deadline - absl::Now(), absl::Seconds(1)));
  if (!wait_status.ok()) {
    return absl::DeadlineExceededError(
        absl::StrCat("command closed its output but did not exit within ",
                     absl::FormatDuration(timeout),
                     "; killed it: ", absl::StrJoin(argv, " ")));
  }
  result.exit_code = ExitCode(*wait_status);
  return result;
}

}  // namespace bnmlp::testing
