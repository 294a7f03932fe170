#include "tests/e2e/support/server_process.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/sanitizer_build.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "tests/e2e/support/child_process.h"

namespace bnmlp::testing {
namespace {

std::string ReadWholeFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

absl::StatusOr<std::string> MakeTempDir() {
  const char* base = getenv("TMPDIR");
  std::string pattern = absl::StrCat(
      base != nullptr && *base != '\0' ? base : "/tmp", "/bnmlp-server-XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr) {
    return absl::ErrnoToStatus(errno, absl::StrCat("mkdtemp ", pattern));
  }
  return pattern;
}

}  // namespace

ServerProcess::ServerProcess(std::string temp_dir, pid_t pid)
    : temp_dir_(std::move(temp_dir)),
      port_file_(temp_dir_ + "/port"),
      log_file_(temp_dir_ + "/server.log"),
      pid_(pid) {}

absl::StatusOr<std::unique_ptr<ServerProcess>> ServerProcess::Start(
    std::vector<std::string> extra_flags, absl::Duration startup_timeout,
    std::vector<std::string> command_prefix,
    std::shared_ptr<grpc::ChannelCredentials> health_credentials) {
  const absl::Time deadline = absl::Now() + startup_timeout;
  absl::StatusOr<std::string> temp_dir = MakeTempDir();
  if (!temp_dir.ok()) return temp_dir.status();
  std::unique_ptr<ServerProcess> server(new ServerProcess(*temp_dir, -1));
  server->health_credentials_ = health_credentials != nullptr
                                    ? std::move(health_credentials)
                                    : grpc::InsecureChannelCredentials();

  std::vector<std::string> argv = std::move(command_prefix);
  argv.insert(argv.end(), {BnmlpServerPath(), "--listen_address=127.0.0.1:0",
                           "--port_file=" + server->port_file_});
  argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
  const int log_fd = open(server->log_file_.c_str(),
                          O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return absl::ErrnoToStatus(errno, "open " + server->log_file_);
  }
  absl::StatusOr<pid_t> pid = SpawnChild(argv, {-1, log_fd, log_fd});
  close(log_fd);
  if (!pid.ok()) return pid.status();
  server->pid_ = *pid;

  if (absl::Status status = server->WaitUntilServing(deadline); !status.ok()) {
    KillAndReap(server->pid_);
    server->pid_ = -1;
    return absl::Status(
        status.code(),
        absl::StrCat(status.message(), "\n--- bnmlp-server log ---\n",
                     server->Log()));
  }
  return server;
}

ServerProcess::~ServerProcess() {
  // A server that died on its own (a crash, a sanitizer report) explains
  // itself in its log, which is about to be deleted: show it.
  int wait_status = 0;
  absl::StatusOr<bool> exited =
      pid_ > 0 ? ReapIfExited(pid_, &wait_status) : false;
  if (exited.ok() && *exited) {
    std::fprintf(stderr,
                 "bnmlp-server (pid %d) exited on its own with %s; its log:\n"
                 "%s\n",
                 pid_, DescribeWaitStatus(wait_status).c_str(), Log().c_str());
  } else {
    KillAndReap(pid_);
  }
  unlink(port_file_.c_str());
  unlink((port_file_ + ".tmp").c_str());
  unlink(log_file_.c_str());
  rmdir(temp_dir_.c_str());
}

// OK(true) once the port file holds a port number. The server writes it
// atomically (rename), so a partial number is never seen.
absl::StatusOr<bool> ServerProcess::ReadPortFile() {
  if (access(port_file_.c_str(), F_OK) != 0) return false;
  const std::string text = ReadWholeFile(port_file_);
  int port = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &port) || port <= 0 ||
      port > 65535) {
    return absl::InternalError(absl::StrCat(
        "port file ", port_file_, " holds '", text, "', expected a port"));
  }
  port_ = port;
  address_ = absl::StrCat("127.0.0.1:", port);
  return true;
}

absl::Status ServerProcess::WaitUntilServing(absl::Time deadline) {
  std::unique_ptr<grpc::health::v1::Health::Stub> health;
  std::string last_problem = "no port file yet";
  while (absl::Now() < deadline) {
    int wait_status = 0;
    absl::StatusOr<bool> exited = ReapIfExited(pid_, &wait_status);
    if (!exited.ok()) return exited.status();
    if (*exited) {
      pid_ = -1;
      return absl::FailedPreconditionError(
          absl::StrCat("bnmlp-server exited during startup with ",
                       DescribeWaitStatus(wait_status)));
    }
    if (health == nullptr) {
      absl::StatusOr<bool> has_port = ReadPortFile();
      if (!has_port.ok()) return has_port.status();
      if (*has_port) {
        health = grpc::health::v1::Health::NewStub(
            grpc::CreateChannel(address_, health_credentials_));
      }
    }
    if (health != nullptr) {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() +
                           std::chrono::seconds(2));
      grpc::health::v1::HealthCheckRequest request;
      grpc::health::v1::HealthCheckResponse response;
      const grpc::Status status = health->Check(&context, request, &response);
      if (status.ok() &&
          response.status() == grpc::health::v1::HealthCheckResponse::SERVING) {
        return absl::OkStatus();
      }
      last_problem =
          absl::StrCat("health Check on ", address_, ": ",
                       status.ok() ? "not SERVING" : status.error_message());
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::DeadlineExceededError(absl::StrCat(
      "bnmlp-server was not serving in time (", last_problem, ")"));
}

absl::StatusOr<int> ServerProcess::Stop(int signal, absl::Duration timeout) {
  if (pid_ <= 0) {
    return absl::FailedPreconditionError("the server is already stopped");
  }
  if (kill(pid_, signal) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("kill ", pid_));
  }
  const pid_t pid = pid_;
  pid_ = -1;  // WaitForChild reaps it either way
  return WaitForChild(pid, timeout);
}

std::string ServerProcess::Log() const { return ReadWholeFile(log_file_); }

namespace {

// `field` ("VmHWM:", "VmRSS:") of /proc/<pid>/status in bytes; -1 if
// unreadable.
int64_t ProcStatusBytes(pid_t pid, absl::string_view field) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    absl::string_view rest = line;
    if (!absl::ConsumePrefix(&rest, field)) continue;
    rest = absl::StripAsciiWhitespace(rest);
    absl::ConsumeSuffix(&rest, " kB");
    int64_t kib = 0;
    if (absl::SimpleAtoi(rest, &kib)) return kib * 1024;
  }
  return -1;
}

}  // namespace

int64_t ServerProcess::PeakRssBytes() const {
  return ProcStatusBytes(pid_, "VmHWM:");
}

int64_t ServerProcess::RssBytes() const {
  return ProcStatusBytes(pid_, "VmRSS:");
}

int64_t PeakRssBoundForBudget(int64_t budget) {
#if defined(BNMLP_TSAN)
  return budget * 5;
#elif defined(BNMLP_ASAN)
  return budget / 2 * 3;
#else
  return budget;
#endif
}

}  // namespace bnmlp::testing
