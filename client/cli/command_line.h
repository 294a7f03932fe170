// Subcommand-style command lines ("bnmlp train --name m --epochs 3") over
// Abseil flags: absl parses and stores every flag value; this layer knows
// which flags belong to which subcommand, reports mistakes as statuses (so
// the caller picks the exit code, unlike absl::ParseCommandLine, which
// exits) and writes per-command --help from the flags' own help strings.
#ifndef BNMLP_CLIENT_CLI_COMMAND_LINE_H_
#define BNMLP_CLIENT_CLI_COMMAND_LINE_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace bnmlp::cli {

struct CommandSpec {
  std::string name;                // "train"
  std::string summary;             // One line for the command list.
  std::string description;         // Paragraphs for `bnmlp train --help`.
  std::vector<std::string> flags;  // Names of the absl flags it accepts.
};

struct ParsedCommandLine {
  // Empty when only --help or --version was given without a command.
  std::string command;
  bool help_requested = false;
  // --version anywhere (after --help, which wins).
  bool version_requested = false;
  // The flags the user set, by name, so "unset" can mean "server default".
  absl::flat_hash_set<std::string> flags_set;
};

// Parses `args` (argv without the program name): one command name from
// `commands` plus flags written --flag=value, --flag value, --bool_flag,
// --nobool_flag (one or two dashes). Each flag must be one of the command's
// flags or of `common_flags`, and be registered with ABSL_FLAG; its value is
// parsed and stored by absl (CommandLineFlag::ParseFrom). "--help", "-h" or
// a first argument "help" set help_requested and skip every other check;
// so does "--version" (version_requested), unless help was asked for too.
// INVALID_ARGUMENT, naming the offending argument, on any mistake. Flags are
// process-global, so this is not thread-safe.
absl::StatusOr<ParsedCommandLine> ParseCommandLine(
    absl::Span<const std::string> args, absl::Span<const CommandSpec> commands,
    absl::Span<const std::string> common_flags);

// The command called `name`, or null.
const CommandSpec* FindCommand(absl::Span<const CommandSpec> commands,
                               absl::string_view name);

// "Usage: bnmlp <command> [flags]" with the command list and common flags.
std::string ProgramHelp(absl::string_view program, absl::string_view intro,
                        absl::Span<const CommandSpec> commands,
                        absl::Span<const std::string> common_flags);
// The command's description and every flag it takes with help and default.
std::string CommandHelp(absl::string_view program, const CommandSpec& command,
                        absl::Span<const std::string> common_flags);

}  // namespace bnmlp::cli

#endif  // BNMLP_CLIENT_CLI_COMMAND_LINE_H_
