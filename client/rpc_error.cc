#include "client/rpc_error.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace bnmlp::client {

absl::Status FromGrpcStatus(const grpc::Status& status, absl::string_view rpc,
                            absl::string_view address) {
  if (status.ok()) return absl::OkStatus();
  // grpc::StatusCode and absl::StatusCode share their numbering.
  const auto code = static_cast<absl::StatusCode>(status.error_code());
  const std::string code_name = absl::StatusCodeToString(code);
  const std::string server_message = status.error_message().empty()
                                         ? std::string("(no message)")
                                         : status.error_message();
  switch (code) {
    case absl::StatusCode::kUnavailable:
      return absl::UnavailableError(
          absl::StrCat(rpc, ": the server at ", address, " is unreachable (",
                       code_name, ": ", server_message, ")"));
    case absl::StatusCode::kDeadlineExceeded:
      return absl::DeadlineExceededError(
          absl::StrCat(rpc, ": the server at ", address,
                       " did not answer before the deadline (", code_name, ": ",
                       server_message, ")"));
    default:
      return absl::Status(
          code, absl::StrCat(rpc, ": ", code_name, ": ", server_message));
  }
}

}  // namespace bnmlp::client
