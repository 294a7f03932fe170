// Turns a gRPC status into an absl::Status a person can act on.
#ifndef BNMLP_CLIENT_RPC_ERROR_H_
#define BNMLP_CLIENT_RPC_ERROR_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace bnmlp::client {

// Maps `status` of the call `rpc` (e.g. "CreateModel") made to the server at
// `address` onto the absl::Status with the same code. The message names the
// RPC, the gRPC code name and the server's message, e.g.
//   "CreateModel: ALREADY_EXISTS: name: model 'm' already exists".
// UNAVAILABLE says that the server at `address` is unreachable and
// DEADLINE_EXCEEDED that it did not answer in time. OK maps to OkStatus().
absl::Status FromGrpcStatus(const grpc::Status& status, absl::string_view rpc,
                            absl::string_view address);

}  // namespace bnmlp::client

#endif  // BNMLP_CLIENT_RPC_ERROR_H_
