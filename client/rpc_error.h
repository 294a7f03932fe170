// Turns a gRPC status into an absl::Status a person can act on.
#ifndef BNMLP_CLIENT_RPC_ERROR_H_
#define BNMLP_CLIENT_RPC_ERROR_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace bnmlp::client {

// What an UNAVAILABLE status says about the server. gRPC gives the same code
// whether it could not reach the server, lost the connection, or the server
// itself answered UNAVAILABLE (e.g. "the server is shutting down"), so the
// message tells them apart: gRPC's transport writes its own wordings.
enum class Unavailability {
  // No connection could be made: refused, unresolvable, no addresses.
  kUnreachable,
  // A connection existed and broke (the server process died, a network
  // failure).
  kConnectionLost,
  // Anything else: the server (or a proxy in front of it) sent the status.
  kSentByServer,
};

// Classifies the message of an UNAVAILABLE status by the wordings gRPC core
// (1.51) uses for failed connects ("failed to connect to all addresses",
// "connections to all backends failing", "DNS resolution failed", ...) and
// for broken connections ("Socket closed", "Connection reset by peer", ...).
Unavailability ClassifyUnavailable(absl::string_view message);

// Maps `status` of the call `rpc` (e.g. "CreateModel") made to the server at
// `address` onto the absl::Status with the same code. The message names the
// RPC, the gRPC code name and the server's message, e.g.
//   "CreateModel: ALREADY_EXISTS: name: model 'm' already exists".
// UNAVAILABLE and DEADLINE_EXCEEDED also name the address and say what
// happened, with gRPC's code and message in parentheses:
//   "Health: the server at h:1 is unreachable (UNAVAILABLE: failed to ...)"
//   "Train: the connection to the server at h:1 was lost (UNAVAILABLE: ...)"
//   "Train: the server at h:1 is unavailable (UNAVAILABLE: the server is
//    shutting down: ...)"
//   "Predict: the server at h:1 did not answer before the deadline
//    (DEADLINE_EXCEEDED: ...)"
// OK maps to OkStatus().
absl::Status FromGrpcStatus(const grpc::Status& status, absl::string_view rpc,
                            absl::string_view address);

}  // namespace bnmlp::client

#endif  // BNMLP_CLIENT_RPC_ERROR_H_
