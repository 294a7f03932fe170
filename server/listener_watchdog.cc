#include "server/listener_watchdog.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"

namespace bnmlp {
namespace {

// gRPC core's words (1.51) when the peer closed or reset a connection it
// had accepted.
bool ClosedByPeer(absl::string_view message) {
  const std::string lower = absl::AsciiStrToLower(message);
  return absl::StrContains(lower, "socket closed") ||
         absl::StrContains(lower, "connection reset") ||
         absl::StrContains(lower, "end of tcp stream");
}

}  // namespace

absl::StatusOr<std::string> SelfProbeTarget(const std::string& listen_address,
                                            int port) {
  const size_t colon = listen_address.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("listen address \"", listen_address.substr(0, 200),
                     "\": expected host:port"));
  }
  std::string host = listen_address.substr(0, colon);
  if (host == "0.0.0.0") host = "127.0.0.1";
  if (host == "[::]") host = "[::1]";
  return absl::StrCat(host, ":", port);
}

absl::Status ProbeHealthOverNewConnection(const std::string& target,
                                          absl::Duration timeout,
                                          bool tls_listener) {
  grpc::ChannelArguments arguments;
  // A subchannel pool of this channel's own: a fresh TCP connection, never
  // one that another channel to the same address already holds.
  arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  std::unique_ptr<grpc::health::v1::Health::Stub> health =
      grpc::health::v1::Health::NewStub(grpc::CreateCustomChannel(
          target, grpc::InsecureChannelCredentials(), arguments));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  // Wait out a refused connect too; but a TLS listener's closing of the
  // plaintext connection must surface, not be retried until the deadline.
  context.set_wait_for_ready(!tls_listener);
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  const grpc::Status status = health->Check(&context, request, &response);
  if (tls_listener && status.error_code() == grpc::StatusCode::UNAVAILABLE &&
      ClosedByPeer(status.error_message())) {
    return absl::OkStatus();
  }
  // Any answer (NOT_SERVING during a shutdown, NOT_FOUND for a service)
  // came through an accepted connection.
  if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED ||
      status.error_code() == grpc::StatusCode::UNAVAILABLE) {
    // gRPC's codes are absl's, number for number.
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                        absl::StrCat("no answer from ", target,
                                     " over a new "
                                     "connection: ",
                                     status.error_message()));
  }
  return absl::OkStatus();
}

ListenerWatchdog::ListenerWatchdog(Probe probe, absl::Duration interval,
                                   int max_misses, OnUnreachable on_unreachable)
    : probe_(std::move(probe)),
      interval_(interval),
      max_misses_(max_misses),
      on_unreachable_(std::move(on_unreachable)),
      thread_([this] { Run(); }) {}

ListenerWatchdog::~ListenerWatchdog() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  stop_requested_.notify_all();
  thread_.join();
}

void ListenerWatchdog::Run() {
  int misses = 0;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (stop_requested_.wait_for(lock, absl::ToChronoNanoseconds(interval_),
                                   [this] { return stopping_; })) {
        return;
      }
    }
    const absl::Status status = probe_();
    misses = status.ok() ? 0 : misses + 1;
    if (misses >= max_misses_) {
      on_unreachable_(status);
      return;
    }
  }
}

}  // namespace bnmlp
