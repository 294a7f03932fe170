// Notices a listener that no longer accepts connections, so the process can
// exit and be restarted instead of staying half-alive.
//
// Why: once the process runs out of file descriptors, gRPC 1.51's listener
// (tcp_server_posix's accept4 failure path) stops accepting for good, even
// after descriptors are freed, while calls on connections it already holds
// keep working, so a health check over an old connection still says
// SERVING. Only a fresh connection tells the truth; the watchdog makes one
// every interval.
#ifndef BNMLP_SERVER_LISTENER_WATCHDOG_H_
#define BNMLP_SERVER_LISTENER_WATCHDOG_H_

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace bnmlp {

// The address a process reaches its own listener at: the loopback address
// of the listen address's family when it listens on every address
// ("0.0.0.0:50051" -> "127.0.0.1:PORT", "[::]:50051" -> "[::1]:PORT"), the
// listen host otherwise, with `port` (the bound one). INVALID_ARGUMENT if
// `listen_address` has no host:port form.
absl::StatusOr<std::string> SelfProbeTarget(const std::string& listen_address,
                                            int port);

// Calls grpc.health.v1.Health/Check on `target` over a connection of its
// own (never one shared with other channels). OK if the server answered at
// all (SERVING or not): the listener accepted. Otherwise the RPC's error.
// A TLS listener (`tls_listener`) is probed in plaintext too (the process
// may hold no certificate its own port would accept, with mTLS): there, a
// connection the server accepted and then closed or reset (its answer to a
// plaintext hello) counts as accepted; a listener that does not accept
// leaves the connection unanswered until the timeout.
absl::Status ProbeHealthOverNewConnection(const std::string& target,
                                          absl::Duration timeout,
                                          bool tls_listener = false);

// Runs `probe` every `interval` on a thread of its own; after `max_misses`
// failures in a row it calls `on_unreachable` once, with the last error,
// and stops probing. A success resets the count. Thread-safe; the
// destructor stops the thread (waiting for a probe under way, which the
// probe's own timeout bounds).
class ListenerWatchdog {
 public:
  using Probe = std::function<absl::Status()>;
  using OnUnreachable = std::function<void(const absl::Status& last_error)>;

  ListenerWatchdog(Probe probe, absl::Duration interval, int max_misses,
                   OnUnreachable on_unreachable);
  ~ListenerWatchdog();
  ListenerWatchdog(const ListenerWatchdog&) = delete;
  ListenerWatchdog& operator=(const ListenerWatchdog&) = delete;

 private:
  void Run();

  const Probe probe_;
  const absl::Duration interval_;
  const int max_misses_;
  const OnUnreachable on_unreachable_;
  std::mutex mu_;  // held only to read or set stopping_
  std::condition_variable stop_requested_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;     // last: starts after the fields
};

}  // namespace bnmlp

#endif  // BNMLP_SERVER_LISTENER_WATCHDOG_H_
