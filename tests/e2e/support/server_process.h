// The real bnmlp-server binary as a child process of a test.
#ifndef BNMLP_TESTS_E2E_SUPPORT_SERVER_PROCESS_H_
#define BNMLP_TESTS_E2E_SUPPORT_SERVER_PROCESS_H_

#include <signal.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/security/credentials.h"
#include "tests/e2e/support/binary_paths.h"  // IWYU pragma: export

namespace bnmlp::testing {

// Owns one running bnmlp-server on a free loopback port. Not thread-safe
// (use one from one thread at a time); the process is killed if the thread
// that started it exits, so keep it on the test's main thread.
class ServerProcess {
 public:
  // Starts BnmlpServerPath() with --listen_address=127.0.0.1:0,
  // --port_file=<temp file> and then `extra_flags` (later flags win), stdout
  // and stderr captured to a temp file. Returns once the port file names the
  // bound port and a grpc.health.v1.Health/Check answers SERVING. Errors
  // (the server exits early, or is not serving within `startup_timeout`)
  // include the server's log; the process is then killed and reaped.
  // `command_prefix` runs the server through another program that execs
  // it (e.g. {"prlimit", "--nofile=64:64"}), so pid() is still the server.
  // `health_credentials` (null: plaintext) is how the health check connects,
  // for servers started with TLS flags.
  static absl::StatusOr<std::unique_ptr<ServerProcess>> Start(
      std::vector<std::string> extra_flags = {},
      absl::Duration startup_timeout = absl::Seconds(60),
      std::vector<std::string> command_prefix = {},
      std::shared_ptr<grpc::ChannelCredentials> health_credentials = nullptr);

  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;
  // SIGKILL and reap if still running; removes the temp files. A server
  // that exited on its own (crashed) gets its log printed to stderr first.
  ~ServerProcess();

  const std::string& address() const { return address_; }  // "127.0.0.1:PORT"
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }

  // Sends `signal`, waits up to `timeout` for the exit and returns the raw
  // wait status (use WIFEXITED / WEXITSTATUS). On timeout the server is
  // killed and the result is DEADLINE_EXCEEDED. FAILED_PRECONDITION if it
  // was already stopped.
  absl::StatusOr<int> Stop(int signal = SIGTERM,
                           absl::Duration timeout = absl::Seconds(20));

  // The server's stdout and stderr so far.
  std::string Log() const;

  // The server's peak resident set (VmHWM) and its current one (VmRSS), in
  // bytes; -1 if unreadable.
  int64_t PeakRssBytes() const;
  int64_t RssBytes() const;

 private:
  ServerProcess(std::string temp_dir, pid_t pid);
  absl::Status WaitUntilServing(absl::Time deadline);
  absl::StatusOr<bool> ReadPortFile();

  std::string temp_dir_;
  std::string port_file_;
  std::string log_file_;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string address_;
  std::shared_ptr<grpc::ChannelCredentials> health_credentials_;
};

// What the peak RSS of a server started with --max_memory_bytes=`budget` is
// held to: the budget itself, or more when the tests (and the server with
// them) are built with a sanitizer, whose shadow memory is not in the
// budget: an eighth of what it maps under ASan (plus a quarantine of freed
// blocks and redzones), four times under TSan.
int64_t PeakRssBoundForBudget(int64_t budget);

}  // namespace bnmlp::testing

#endif  // BNMLP_TESTS_E2E_SUPPORT_SERVER_PROCESS_H_
