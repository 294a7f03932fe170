#include "client/cli/command_line.h"

#include <algorithm>
#include <utility>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"

namespace bnmlp::cli {
namespace {

bool IsHelpFlag(absl::string_view arg) {
  return arg == "--help" || arg == "-help" || arg == "-h";
}

bool IsVersionFlag(absl::string_view arg) {
  return arg == "--version" || arg == "-version";
}

bool Contains(absl::Span<const std::string> names, absl::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// A flag argument split into its name and value. For "--noverbose" on a bool
// flag the name is "verbose" and the value "false".
struct FlagArgument {
  std::string name;
  std::string value;
  bool has_value = false;
};

FlagArgument SplitFlagArgument(absl::string_view arg) {
  absl::ConsumePrefix(&arg, "-");
  absl::ConsumePrefix(&arg, "-");
  FlagArgument flag;
  const size_t equals = arg.find('=');
  flag.name = std::string(arg.substr(0, equals));
  if (equals != absl::string_view::npos) {
    flag.value = std::string(arg.substr(equals + 1));
    flag.has_value = true;
  }
  return flag;
}

// Resolves "--noNAME" for a bool flag NAME that is not itself registered.
absl::CommandLineFlag* LookUpFlag(FlagArgument* flag) {
  if (absl::CommandLineFlag* found = absl::FindCommandLineFlag(flag->name)) {
    return found;
  }
  absl::string_view name = flag->name;
  if (!flag->has_value && absl::ConsumePrefix(&name, "no")) {
    absl::CommandLineFlag* negated = absl::FindCommandLineFlag(name);
    if (negated != nullptr && negated->IsOfType<bool>()) {
      flag->name = std::string(name);
      flag->value = "false";
      flag->has_value = true;
      return negated;
    }
  }
  return nullptr;
}

std::string FormatFlagHelp(absl::string_view name) {
  const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
  if (flag == nullptr) return absl::StrCat("  --", name, "\n");
  const std::string default_value = flag->DefaultValue();
  return absl::StrCat("  --", name,
                      default_value.empty()
                          ? ""
                          : absl::StrCat(" (default: ", default_value, ")"),
                      "\n      ", flag->Help(), "\n");
}

// One --flag argument, resolved against the absl registry; `value` is
// filled in (from the next argument, or "true" for a bare bool flag).
struct ResolvedFlag {
  FlagArgument argument;
  absl::CommandLineFlag* flag = nullptr;
};

// Splits `args` into flags and positional arguments.
absl::Status Tokenize(absl::Span<const std::string> args,
                      std::vector<ResolvedFlag>* flags,
                      std::vector<std::string>* positionals) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      positionals->insert(positionals->end(), args.begin() + i + 1, args.end());
      break;
    }
    if (arg == "-" || !absl::StartsWith(arg, "-")) {
      positionals->push_back(arg);
      continue;
    }
    ResolvedFlag resolved{SplitFlagArgument(arg)};
    FlagArgument& flag = resolved.argument;
    resolved.flag = LookUpFlag(&flag);
    if (resolved.flag == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag --", flag.name));
    }
    if (!flag.has_value) {
      if (resolved.flag->IsOfType<bool>()) {
        flag.value = "true";
      } else if (i + 1 < args.size()) {
        flag.value = args[++i];
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("--", flag.name, " needs a value"));
      }
    }
    flags->push_back(std::move(resolved));
  }
  return absl::OkStatus();
}

std::string SeeHelp(const CommandSpec* command) {
  return command == nullptr
             ? std::string("see 'bnmlp --help'")
             : absl::StrCat("see 'bnmlp ", command->name, " --help'");
}

}  // namespace

const CommandSpec* FindCommand(absl::Span<const CommandSpec> commands,
                               absl::string_view name) {
  for (const CommandSpec& command : commands) {
    if (command.name == name) return &command;
  }
  return nullptr;
}

absl::StatusOr<ParsedCommandLine> ParseCommandLine(
    absl::Span<const std::string> args, absl::Span<const CommandSpec> commands,
    absl::Span<const std::string> common_flags) {
  ParsedCommandLine parsed;
  // "bnmlp help [command]" or --help anywhere.
  parsed.help_requested = !args.empty() && args[0] == "help";
  for (const std::string& arg : args) {
    if (IsHelpFlag(arg)) parsed.help_requested = true;
    if (IsVersionFlag(arg)) parsed.version_requested = true;
    // Good enough to pick the command whose help to show.
    if (parsed.command.empty() && FindCommand(commands, arg) != nullptr) {
      parsed.command = arg;
    }
  }
  if (parsed.help_requested) {
    parsed.version_requested = false;
    return parsed;
  }
  if (parsed.version_requested) return parsed;
  parsed.command.clear();

  std::vector<ResolvedFlag> flags;
  std::vector<std::string> positionals;
  if (absl::Status status = Tokenize(args, &flags, &positionals);
      !status.ok()) {
    // Not BNMLP_RETURN_IF_ERROR: the message gains a hint on the way out.
    return absl::InvalidArgumentError(
        absl::StrCat(status.message(), " (see 'bnmlp --help')"));
  }
  std::vector<std::string> command_names;
  for (const CommandSpec& spec : commands) command_names.push_back(spec.name);
  if (positionals.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "no command given; the commands are ",
        absl::StrJoin(command_names, ", "), " (see 'bnmlp --help')"));
  }
  const CommandSpec* command = FindCommand(commands, positionals[0]);
  if (command == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown command '", positionals[0], "'; the commands are ",
        absl::StrJoin(command_names, ", "), " (see 'bnmlp --help')"));
  }
  parsed.command = command->name;
  if (positionals.size() > 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unexpected argument '", positionals[1], "': 'bnmlp ", command->name,
        "' takes only --flags (", SeeHelp(command), ")"));
  }
  for (const ResolvedFlag& resolved : flags) {
    const FlagArgument& flag = resolved.argument;
    if (!Contains(common_flags, flag.name) &&
        !Contains(command->flags, flag.name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("'bnmlp ", command->name, "' has no flag --", flag.name,
                       " (", SeeHelp(command), ")"));
    }
    std::string error;
    if (!resolved.flag->ParseFrom(flag.value, &error)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", flag.name, "=", flag.value, ": ", error, " (",
                       SeeHelp(command), ")"));
    }
    parsed.flags_set.insert(flag.name);
  }
  return parsed;
}

std::string ProgramHelp(absl::string_view program, absl::string_view intro,
                        absl::Span<const CommandSpec> commands,
                        absl::Span<const std::string> common_flags) {
  std::string help =
      absl::StrCat(intro, "\n\nUsage: ", program,
                   " <command> [--flag=value ...]\n\nCommands:\n");
  for (const CommandSpec& command : commands) {
    absl::StrAppend(
        &help, absl::StrFormat("  %-9s %s\n", command.name, command.summary));
  }
  absl::StrAppend(&help, "\nFlags of every command:\n");
  for (const std::string& flag : common_flags) {
    absl::StrAppend(&help, FormatFlagHelp(flag));
  }
  absl::StrAppend(&help, "\nRun '", program,
                  " <command> --help' for the flags of one command.\n");
  return help;
}

std::string CommandHelp(absl::string_view program, const CommandSpec& command,
                        absl::Span<const std::string> common_flags) {
  std::string help =
      absl::StrCat("Usage: ", program, " ", command.name,
                   " [--flag=value ...]\n\n", command.summary, "\n");
  if (!command.description.empty()) {
    absl::StrAppend(&help, "\n", command.description, "\n");
  }
  if (!command.flags.empty()) {
    absl::StrAppend(&help, "\nFlags:\n");
    for (const std::string& flag : command.flags) {
      absl::StrAppend(&help, FormatFlagHelp(flag));
    }
  }
  absl::StrAppend(&help, "\nFlags of every command:\n");
  for (const std::string& flag : common_flags) {
    absl::StrAppend(&help, FormatFlagHelp(flag));
  }
  return help;
}

}  // namespace bnmlp::cli
