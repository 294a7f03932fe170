// The bnmlp CLI's subcommands. Each reads its flags (client/cli/flags.h),
// talks to the server through `client`, prints its result to stdout (text,
// or JSON with --json), errors to stderr, and returns an exit code from
// client/cli/exit_codes.h.
#ifndef BNMLP_CLIENT_CLI_COMMANDS_H_
#define BNMLP_CLIENT_CLI_COMMANDS_H_

#include <string>

#include "absl/status/statusor.h"
#include "client/bnmlp_client.h"
#include "client/cli/command_line.h"

namespace bnmlp::cli {

struct CommandContext {
  client::BnmlpClient* client;
  const ParsedCommandLine* command_line;
  bool json = false;

  bool FlagSet(const std::string& name) const {
    return command_line->flags_set.contains(name);
  }
};

int RunHealth(const CommandContext& context);
int RunCreate(const CommandContext& context);
int RunTrain(const CommandContext& context);
int RunPredict(const CommandContext& context);
int RunParams(const CommandContext& context);
int RunList(const CommandContext& context);
int RunDelete(const CommandContext& context);

// The --name flag; INVALID_ARGUMENT (a usage error) when it is not given.
absl::StatusOr<std::string> NameFromFlags();

}  // namespace bnmlp::cli

#endif  // BNMLP_CLIENT_CLI_COMMANDS_H_
