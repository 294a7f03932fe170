#include "bench/load/server_launcher.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

extern char** environ;

namespace bnmlp::bench {
namespace {

// Waits up to `timeout` for `pid` to exit; true if it did (and is reaped).
bool ReapWithin(pid_t pid, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  int status = 0;
  while (absl::Now() < deadline) {
    if (waitpid(pid, &status, WNOHANG) == pid) return true;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return false;
}

}  // namespace

absl::StatusOr<std::unique_ptr<LaunchedServer>> LaunchedServer::Start(
    const std::string& binary, const std::vector<std::string>& flags,
    const std::string& log_path) {
  std::unique_ptr<LaunchedServer> server(new LaunchedServer());
  server->port_file_ = absl::StrCat("/tmp/bnmlp-load-", getpid(), ".port");
  unlink(server->port_file_.c_str());
  std::vector<std::string> args = {binary, "--listen_address=127.0.0.1:0",
                                   "--port_file=" + server->port_file_};
  args.insert(args.end(), flags.begin(), flags.end());
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log_path.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  const int error = posix_spawn(&server->pid_, binary.c_str(), &actions,
                                nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) {
    server->pid_ = -1;
    return absl::ErrnoToStatus(error, absl::StrCat("cannot start ", binary));
  }

  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (absl::Now() < deadline) {
    int status = 0;
    if (waitpid(server->pid_, &status, WNOHANG) == server->pid_) {
      server->pid_ = -1;
      return absl::FailedPreconditionError(
          absl::StrCat(binary, " exited during startup; see ", log_path));
    }
    std::ifstream file(server->port_file_);
    std::string text;
    int port = 0;
    if (std::getline(file, text) && absl::SimpleAtoi(text, &port) && port > 0) {
      server->address_ = absl::StrCat("127.0.0.1:", port);
      return server;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::DeadlineExceededError(
      absl::StrCat(binary, " wrote no port within 60 s; see ", log_path));
}

LaunchedServer::~LaunchedServer() {
  unlink(port_file_.c_str());
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  if (!ReapWithin(pid_, absl::Seconds(20))) {
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
}

}  // namespace bnmlp::bench
