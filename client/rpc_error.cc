#include "client/rpc_error.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"

namespace bnmlp::client {
namespace {

// gRPC core's own words (lower case) when it cannot connect: pick_first,
// round_robin, the resolvers and the TCP client (src/core, gRPC 1.51).
constexpr absl::string_view kUnreachableWordings[] = {
    "failed to connect to all addresses",
    "connections to all backends failing",
    "failed to connect to remote host",
    "dns resolution failed",
    "empty address list",
};

// Its words when an established connection breaks under a call: the
// transport's, and the system's (strerror) for the socket errors.
constexpr absl::string_view kConnectionLostWordings[] = {
    "socket closed",    "connection reset by peer", "broken pipe",
    "endpoint closing", "transport closed",         "keepalive watchdog",
};

bool ContainsAny(absl::string_view lower_text,
                 absl::Span<const absl::string_view> wordings) {
  for (const absl::string_view wording : wordings) {
    if (absl::StrContains(lower_text, wording)) return true;
  }
  return false;
}

}  // namespace

Unavailability ClassifyUnavailable(absl::string_view message) {
  const std::string lower = absl::AsciiStrToLower(message);
  if (ContainsAny(lower, kUnreachableWordings)) {
    return Unavailability::kUnreachable;
  }
  if (ContainsAny(lower, kConnectionLostWordings)) {
    return Unavailability::kConnectionLost;
  }
  return Unavailability::kSentByServer;
}

absl::Status FromGrpcStatus(const grpc::Status& status, absl::string_view rpc,
                            absl::string_view address) {
  if (status.ok()) return absl::OkStatus();
  // grpc::StatusCode and absl::StatusCode share their numbering.
  const auto code = static_cast<absl::StatusCode>(status.error_code());
  const std::string code_name = absl::StatusCodeToString(code);
  const std::string server_message = status.error_message().empty()
                                         ? std::string("(no message)")
                                         : status.error_message();
  const std::string details =
      absl::StrCat(" (", code_name, ": ", server_message, ")");
  switch (code) {
    case absl::StatusCode::kUnavailable:
      switch (ClassifyUnavailable(server_message)) {
        case Unavailability::kUnreachable:
          return absl::UnavailableError(absl::StrCat(
              rpc, ": the server at ", address, " is unreachable", details));
        case Unavailability::kConnectionLost:
          return absl::UnavailableError(
              absl::StrCat(rpc, ": the connection to the server at ", address,
                           " was lost", details));
        case Unavailability::kSentByServer:
          return absl::UnavailableError(absl::StrCat(
              rpc, ": the server at ", address, " is unavailable", details));
      }
      break;
    case absl::StatusCode::kDeadlineExceeded:
      return absl::DeadlineExceededError(
          absl::StrCat(rpc, ": the server at ", address,
                       " did not answer before the deadline", details));
    default:
      break;
  }
  return absl::Status(code,
                      absl::StrCat(rpc, ": ", code_name, ": ", server_message));
}

}  // namespace bnmlp::client
