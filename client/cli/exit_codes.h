// The bnmlp CLI's exit codes (documented in README.md; scripts rely on
// them) and the one way errors are printed.
#ifndef BNMLP_CLIENT_CLI_EXIT_CODES_H_
#define BNMLP_CLIENT_CLI_EXIT_CODES_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace bnmlp::cli {

enum ExitCode : int {
  kExitOk = 0,
  // The server answered with an error (NOT_FOUND, INVALID_ARGUMENT, ...),
  // or a health check found it not serving.
  kExitRpcError = 1,
  // Bad command line: unknown command or flag, bad or missing flag value.
  kExitUsage = 2,
  // UNAVAILABLE (no server reachable at --server, the connection lost, or
  // the server itself unavailable, e.g. shutting down) or no answer in time
  // (DEADLINE_EXCEEDED): worth retrying later, unlike kExitRpcError.
  kExitUnreachable = 3,
  // An input file is missing or malformed, or does not fit the model (its
  // feature count, a label the model has no class for, target columns).
  kExitInputError = 4,
  // Ctrl-C (SIGINT) cancelled the command (128 + SIGINT, as shells report).
  kExitInterrupted = 130,
};

// Prints "bnmlp: error: <status message>" to stderr and returns `code`.
int Fail(ExitCode code, const absl::Status& status);
// Prints "bnmlp: <message>" plus a usage hint to stderr; returns kExitUsage.
int FailUsage(absl::string_view message);
// For a failed RPC: kExitUnreachable for UNAVAILABLE and DEADLINE_EXCEEDED,
// kExitRpcError otherwise.
int FailRpc(const absl::Status& status);

}  // namespace bnmlp::cli

#endif  // BNMLP_CLIENT_CLI_EXIT_CODES_H_
