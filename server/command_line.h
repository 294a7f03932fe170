// bnmlp-server's command line: --flag=value / --flag value / --noflag for
// the absl flags defined under server/, plus --help and --version. Written
// here rather than left to absl::ParseCommandLine, which exits 1 on both
// --help and an unknown flag; like the `bnmlp` CLI, the server exits 0 for
// --help / --version and 2 for a usage error.
#ifndef BNMLP_SERVER_COMMAND_LINE_H_
#define BNMLP_SERVER_COMMAND_LINE_H_

#include <string>

#include "absl/types/span.h"

namespace bnmlp {

struct ServerCommandLine {
  enum class Action {
    kRun,           // every flag parsed and set: start the server
    kPrintHelp,     // --help (or -h, --helpfull): print `text`, exit 0
    kPrintVersion,  // --version: print `text`, exit 0
    kUsageError,    // print `text` to stderr, exit 2
  };
  Action action = Action::kRun;
  std::string text;
};

// Parses args[1..] and sets the flags they name. `usage` heads the help.
// Only flags defined in files under server/ are accepted (gRPC and Abseil
// register flags of their own that are not the server's interface).
ServerCommandLine ParseServerCommandLine(absl::Span<char* const> args,
                                         const std::string& usage);

// "bnmlp-server 0.2.0 (git 0123456789ab)".
std::string VersionLine(const std::string& program);

}  // namespace bnmlp

#endif  // BNMLP_SERVER_COMMAND_LINE_H_
