// bnmlp-server: the flags, the signals and the port file around BnmlpServer.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "common/build_info.h"
#include "core/compute_threads.h"
#include "server/bnmlp_server.h"
#include "server/command_line.h"
#include "server/event_log.h"
#include "server/listener_watchdog.h"
#include "server/process_limits.h"
#include "server/security_flags.h"
#include "server/shutdown_signal.h"

namespace {

int DefaultThreads() {
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

}  // namespace

ABSL_FLAG(std::string, listen_address, "0.0.0.0:50051",
          "host:port to serve on; port 0 picks a free port (see --port_file)");
ABSL_FLAG(std::string, port_file, "",
          "If set, the bound port is written to this file once the server is "
          "listening (written to <file>.tmp, then renamed)");
ABSL_FLAG(int, max_message_bytes, 256 << 20,
          "Largest request or response message in bytes; larger ones get "
          "RESOURCE_EXHAUSTED. The default fits a 60,000 x 784 float "
          "training set");
ABSL_FLAG(int, worker_threads, DefaultThreads(),
          "Most gRPC threads kept idle, polling for calls (default: one per "
          "core; 2 at least). A call runs on the thread that received it; "
          "more threads start while calls are in flight, so calls are never "
          "refused");
ABSL_FLAG(int, compute_threads, DefaultThreads(),
          "Threads each matrix product (GEMM) may use (default: one per "
          "core). Training and large Predict batches use them; keep "
          "worker_threads + compute_threads near the core count when both "
          "are busy");
ABSL_FLAG(int, max_concurrent_predicts, 1,
          "How many large Predict batches (those split over the compute "
          "threads) compute at once; the others wait for a turn until their "
          "deadline passes or the client cancels. 1 gives each batch every "
          "compute thread; raise it when "
          "compute_threads is below the core count");
ABSL_FLAG(int64_t, batch_max_rows, bnmlp::kDefaultBatchMaxRows,
          "Dynamic batching: concurrent Predicts of fewer samples than this "
          "on the same model version merge into one product of at most this "
          "many samples when the compute is busy (an idle server adds no "
          "delay), so the weights are read once per product instead of once "
          "per call. 64 already reuses each weight 64 times; more would "
          "mostly lengthen each product. 0 or 1 turns merging off; at most "
          "512 (one Predict chunk)");
ABSL_FLAG(int64_t, batch_max_delay_us, 0,
          "Dynamic batching: microseconds a merging Predict may wait for "
          "more calls before computing (at most 1000000). 0 (default) merges "
          "only the calls already waiting, adding no delay");
ABSL_FLAG(std::string, model_dir, "",
          "The model store: a directory where every published model version "
          "(and every dataset) is written durably and reloaded from at "
          "startup. Empty: models live in memory only and vanish on restart");
ABSL_FLAG(int, keep_versions, 3,
          "With --model_dir: versions kept on disk per model (the newest); "
          "older ones are removed as new ones are written");
ABSL_FLAG(bool, read_only, false,
          "With --model_dir: serve the models of a store another server "
          "writes (a replica on a shared volume): takes no lock, refuses "
          "every write with FAILED_PRECONDITION, and polls the store for new "
          "versions and deletions every --poll_seconds");
ABSL_FLAG(double, poll_seconds, 2,
          "With --read_only: how often the store is polled");
ABSL_FLAG(int, max_models, 64, "Most models the server holds at once");
ABSL_FLAG(int64_t, max_dataset_bytes, bnmlp::kDefaultMaxDatasetBytes,
          "Most bytes the rows of every uploaded dataset may take together "
          "(features, labels and targets: 4 bytes per value); an upload "
          "beyond it gets RESOURCE_EXHAUSTED with the figures");
ABSL_FLAG(int64_t, max_memory_bytes, 0,
          "Most bytes that requests may make the server hold at once: "
          "models with their optimizer state and retained versions, "
          "datasets, Train and Predict workspaces, GetParameters responses. "
          "What does not fit gets RESOURCE_EXHAUSTED with the figures. "
          "0 (default): 80% of the machine's memory or of the container's "
          "(cgroup) limit, whichever is less; the value is logged at start");
ABSL_FLAG(int64_t, max_parameters, int64_t{16} << 20,
          "Most trainable parameters one model may have");
ABSL_FLAG(double, shutdown_grace_seconds, 10,
          "On SIGINT/SIGTERM, how long in-flight calls may take to finish "
          "before they are cancelled");
ABSL_FLAG(absl::Duration, max_connection_idle, absl::Minutes(5),
          "Close a client connection after this long without a call (the "
          "client reconnects on its next call), so idle clients cannot hold "
          "file descriptors; e.g. 30s, 5m; 0 never closes");
ABSL_FLAG(double, listener_check_seconds, 10,
          "Every this many seconds, connect to the server's own port over a "
          "new connection; after 3 failures in a row (the listener stopped "
          "accepting, e.g. after running out of file descriptors) health "
          "turns NOT_SERVING and the process exits with code 3 so that its "
          "supervisor restarts it. 0 turns the check off");
ABSL_FLAG(std::string, metrics_address, "",
          "host:port to serve Prometheus metrics on over HTTP (GET "
          "/metrics), e.g. 0.0.0.0:9090; empty: no metrics endpoint");
ABSL_FLAG(double, progress_interval_seconds, 0.5,
          "How often Train streams per-batch progress within an epoch (epoch "
          "ends are always sent); 0 sends every batch");

namespace bnmlp {
namespace {

absl::StatusOr<ServerOptions> OptionsFromFlags() {
  ServerOptions options;
  options.listen_address = absl::GetFlag(FLAGS_listen_address);
  options.max_message_bytes = absl::GetFlag(FLAGS_max_message_bytes);
  options.worker_threads = absl::GetFlag(FLAGS_worker_threads);
  options.max_concurrent_predicts =
      absl::GetFlag(FLAGS_max_concurrent_predicts);
  options.batching.max_rows = absl::GetFlag(FLAGS_batch_max_rows);
  options.batching.max_delay =
      std::chrono::microseconds(absl::GetFlag(FLAGS_batch_max_delay_us));
  options.model_dir = absl::GetFlag(FLAGS_model_dir);
  options.keep_versions = absl::GetFlag(FLAGS_keep_versions);
  options.read_only = absl::GetFlag(FLAGS_read_only);
  const double poll = absl::GetFlag(FLAGS_poll_seconds);
  if (!(poll > 0 && poll <= 3600)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--poll_seconds: expected > 0 and <= 3600, got ", poll));
  }
  options.poll_interval = absl::Seconds(poll);
  options.limits.max_models = absl::GetFlag(FLAGS_max_models);
  options.max_dataset_bytes = absl::GetFlag(FLAGS_max_dataset_bytes);
  options.max_memory_bytes = absl::GetFlag(FLAGS_max_memory_bytes);
  options.limits.max_parameters = absl::GetFlag(FLAGS_max_parameters);
  const double interval = absl::GetFlag(FLAGS_progress_interval_seconds);
  if (!(interval >= 0 && interval <= 3600)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--progress_interval_seconds: expected 0 to 3600, got ", interval));
  }
  options.progress_interval = absl::Seconds(interval);
  options.max_connection_idle = absl::GetFlag(FLAGS_max_connection_idle);
  options.metrics_address = absl::GetFlag(FLAGS_metrics_address);
  if (absl::Status status = ValidateServerOptions(options); !status.ok()) {
    return status;
  }
  return options;
}

absl::Status ValidateProcessFlags() {
  const int compute_threads = absl::GetFlag(FLAGS_compute_threads);
  if (compute_threads < 1 || compute_threads > 1024) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--compute_threads: expected 1 to 1024, got ", compute_threads));
  }
  const double check = absl::GetFlag(FLAGS_listener_check_seconds);
  if (!(check >= 0 && check <= 3600)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--listener_check_seconds: expected 0 (off) to 3600, got ", check));
  }
  const double grace = absl::GetFlag(FLAGS_shutdown_grace_seconds);
  if (!(grace >= 0 && grace <= 3600)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--shutdown_grace_seconds: expected 0 to 3600, got ", grace));
  }
  return absl::OkStatus();
}

// Written under a temporary name and renamed, so a reader never sees a
// partial number.
absl::Status WritePortFile(const std::string& path, int port) {
  const std::string temp = path + ".tmp";
  {
    std::ofstream file(temp, std::ios::trunc);
    file << port << "\n";
    if (!file.flush()) {
      return absl::UnavailableError(
          absl::StrCat("--port_file: cannot write ", temp));
    }
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    return absl::UnavailableError(
        absl::StrCat("--port_file: cannot rename ", temp, " to ", path));
  }
  return absl::OkStatus();
}

// listen_address with the port actually bound (it may have asked for 0).
std::string BoundAddress(const std::string& listen_address, int port) {
  const size_t colon = listen_address.rfind(':');
  return absl::StrCat(listen_address.substr(0, colon), ":", port);
}

// Exit code when the listener stopped accepting connections.
constexpr int kExitListenerUnreachable = 3;

// Starts the watchdog of the listener on `port` (ListenerWatchdog), unless
// --listener_check_seconds is 0. When it gives up, it records why in
// `*unreachable` and asks for a shutdown as SIGTERM would.
std::unique_ptr<ListenerWatchdog> WatchListener(
    const std::string& listen_address, int port, bool tls,
    std::atomic<bool>* unreachable) {
  const double interval = absl::GetFlag(FLAGS_listener_check_seconds);
  if (interval == 0) return nullptr;
  const std::string target = *SelfProbeTarget(listen_address, port);
  const absl::Duration timeout =
      std::clamp(absl::Seconds(interval), absl::Seconds(1), absl::Seconds(5));
  return std::make_unique<ListenerWatchdog>(
      [target, timeout, tls] {
        return ProbeHealthOverNewConnection(target, timeout, tls);
      },
      absl::Seconds(interval), /*max_misses=*/3,
      [target, unreachable](const absl::Status& last_error) {
        unreachable->store(true);
        LogEvent(LogLevel::kError,
                 absl::StrCat("event=listener_unreachable target=", target,
                              " error=\"", last_error.message(),
                              "\" action=shutdown exit_code=",
                              kExitListenerUnreachable));
        kill(getpid(), SIGTERM);
      });
}

int Fail(const absl::Status& status) {
  LogEvent(absl::StrCat("event=fatal error=\"", status.message(), "\""));
  return 1;
}

int Run() {
  absl::StatusOr<ServerOptions> options = OptionsFromFlags();
  if (!options.ok()) return Fail(options.status());
  if (absl::Status status = ValidateProcessFlags(); !status.ok()) {
    return Fail(status);
  }
  // Before any thread starts, so that they all inherit the signal mask.
  if (absl::Status status = InstallShutdownSignalHandlers(); !status.ok()) {
    return Fail(status);
  }
  SetComputeThreads(absl::GetFlag(FLAGS_compute_threads));
  // 1 MiB: a block that size costs a mapping, next to the work it serves.
  // 16 MiB kept per heap: the request buffers of a few batch-256 Predicts in
  // flight (~2 MiB each: gRPC's slices, and protobuf's values array doubling
  // as they arrive) are reused instead of faulted in anew. With 4 MiB, 4 such
  // calls in flight faulted ~200 pages per call, and throughput fell to less
  // than half that of 1 in flight (bench/README.md, "Page faults"). The price
  // is at most 16 MiB per malloc arena in use (glibc makes up to 8 per core)
  // outside the budget.
  ReturnLargeBlocksToTheSystem(1 << 20, 16 << 20);
  absl::StatusOr<DescriptorLimit> descriptors = RaiseDescriptorLimitToHard();
  if (!descriptors.ok()) return Fail(descriptors.status());
  absl::StatusOr<ServerSecurity> security =
      SecurityFromFlags(options->listen_address, options->model_dir);
  if (!security.ok()) return Fail(security.status());
  options->credentials = security->credentials;
  options->admission = security->admission;

  absl::StatusOr<std::unique_ptr<BnmlpServer>> server =
      BnmlpServer::Start(*options);
  if (!server.ok()) return Fail(server.status());
  const std::string port_file = absl::GetFlag(FLAGS_port_file);
  if (!port_file.empty()) {
    if (absl::Status status = WritePortFile(port_file, (*server)->port());
        !status.ok()) {
      return Fail(status);
    }
  }
  LogEvent(absl::StrCat(
      "event=listening version=", ProjectVersion(), " git=", GitCommit(),
      " address=", BoundAddress(options->listen_address, (*server)->port()),
      " worker_threads=", options->worker_threads,
      " compute_threads=", ComputeThreads(),
      " max_concurrent_predicts=", options->max_concurrent_predicts,
      " batch_max_rows=", options->batching.max_rows,
      " batch_max_delay_us=", options->batching.max_delay.count(),
      " gemm=", GemmBackend(), " max_models=", options->limits.max_models,
      " max_parameters=", options->limits.max_parameters, " max_message_bytes=",
      options->max_message_bytes, " max_open_files=", descriptors->soft,
      " metrics_port=", (*server)->metrics_port(),
      " max_dataset_bytes=", options->max_dataset_bytes, " max_memory_bytes=",
      (*server)->memory().limit(), " ", security->summary));
  std::atomic<bool> listener_unreachable{false};
  std::unique_ptr<ListenerWatchdog> watchdog =
      WatchListener(options->listen_address, (*server)->port(), security->tls,
                    &listener_unreachable);

  const int signal_number = WaitForShutdownSignal();
  watchdog.reset();
  LogEvent(absl::StrCat("event=signal signal=", strsignal(signal_number),
                        " action=graceful_shutdown"));
  (*server)->Shutdown(
      absl::Seconds(absl::GetFlag(FLAGS_shutdown_grace_seconds)));
  if (listener_unreachable.load()) {
    LogEvent(
        absl::StrCat("event=stopped exit_code=", kExitListenerUnreachable));
    return kExitListenerUnreachable;
  }
  LogEvent("event=stopped");
  return 0;
}

}  // namespace
}  // namespace bnmlp

int main(int argc, char** argv) {
  const std::string usage =
      "Serves batch-normalized multilayer perceptrons over gRPC "
      "(bnmlp.v1.BnMlpService, grpc.health.v1.Health, server reflection).\n"
      "Usage: bnmlp-server [--listen_address=0.0.0.0:50051] [flags]\n"
      "SIGINT/SIGTERM shut it down gracefully. Logs go to stderr, one line "
      "per event. Exit codes: 0 after a graceful shutdown, --help or "
      "--version; 1 on a fatal error; 2 on a bad command line; 3 when the "
      "listener stopped accepting connections (--listener_check_seconds).";
  const bnmlp::ServerCommandLine command_line = bnmlp::ParseServerCommandLine(
      absl::MakeConstSpan(argv, static_cast<size_t>(argc)), usage);
  switch (command_line.action) {
    case bnmlp::ServerCommandLine::Action::kPrintHelp:
    case bnmlp::ServerCommandLine::Action::kPrintVersion:
      std::fputs(command_line.text.c_str(), stdout);
      return 0;
    case bnmlp::ServerCommandLine::Action::kUsageError:
      std::fputs(command_line.text.c_str(), stderr);
      return 2;
    case bnmlp::ServerCommandLine::Action::kRun:
      break;
  }
  // Debian's Abseil is built without NDEBUG, so every absl::Mutex (ours and
  // gRPC's) would keep a lock-order graph for deadlock detection: a few
  // percent of the CPU of a busy server (bench/README.md). The tests keep
  // it on.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return bnmlp::Run();
}
