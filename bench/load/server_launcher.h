// Starts bnmlp-server as a child process for the load benchmark, so the
// server's CPU time can be measured apart from the generator's.
#ifndef BNMLP_BENCH_LOAD_SERVER_LAUNCHER_H_
#define BNMLP_BENCH_LOAD_SERVER_LAUNCHER_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace bnmlp::bench {

class LaunchedServer {
 public:
  // Runs `binary` --listen_address=127.0.0.1:0 --port_file=<temp> `flags`,
  // its stderr appended to `log_path`, and waits (up to 60 s) for the port.
  static absl::StatusOr<std::unique_ptr<LaunchedServer>> Start(
      const std::string& binary, const std::vector<std::string>& flags,
      const std::string& log_path);
  LaunchedServer(const LaunchedServer&) = delete;
  LaunchedServer& operator=(const LaunchedServer&) = delete;
  // SIGTERM, then SIGKILL if it is still running after 20 s; reaps it.
  ~LaunchedServer();

  pid_t pid() const { return pid_; }
  const std::string& address() const { return address_; }

 private:
  LaunchedServer() = default;
  pid_t pid_ = -1;
  std::string address_;
  std::string port_file_;
};

}  // namespace bnmlp::bench

#endif  // BNMLP_BENCH_LOAD_SERVER_LAUNCHER_H_
