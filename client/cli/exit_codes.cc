#include "client/cli/exit_codes.h"

#include <iostream>
#include <string>

#include "client/cli/connection_security.h"

namespace bnmlp::cli {
namespace {

// Set once by main() before any command runs, then only read.
const client::ChannelSecurity* connection_for_hints = nullptr;

}  // namespace

void SetConnectionForHints(const client::ChannelSecurity* security) {
  connection_for_hints = security;
}

int Fail(ExitCode code, const absl::Status& status) {
  std::cerr << "bnmlp: error: " << status.message() << std::endl;
  return code;
}

int FailUsage(absl::string_view message) {
  std::cerr << "bnmlp: " << message << std::endl;
  return kExitUsage;
}

int FailRpc(const absl::Status& status) {
  const bool unreachable =
      absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status);
  const int code = Fail(unreachable ? kExitUnreachable : kExitRpcError, status);
  if (connection_for_hints != nullptr) {
    const std::string hint = ConnectionHint(status, *connection_for_hints);
    if (!hint.empty()) std::cerr << "bnmlp: hint: " << hint << std::endl;
  }
  return code;
}

}  // namespace bnmlp::cli
