#include "client/cli/exit_codes.h"

#include <iostream>

namespace bnmlp::cli {

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
  return Fail(unreachable ? kExitUnreachable : kExitRpcError, status);
}

}  // namespace bnmlp::cli
