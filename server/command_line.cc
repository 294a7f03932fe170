#include "server/command_line.h"

#include <algorithm>
#include <vector>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/build_info.h"

namespace bnmlp {
namespace {

using Action = ServerCommandLine::Action;

bool IsServerFlag(const absl::CommandLineFlag& flag) {
  return absl::StrContains(flag.Filename(), "server/");
}

// The server's flag called `name`, or null.
absl::CommandLineFlag* FindServerFlag(absl::string_view name) {
  absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
  return flag != nullptr && IsServerFlag(*flag) ? flag : nullptr;
}

std::string HelpText(const std::string& usage) {
  std::vector<absl::CommandLineFlag*> flags;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (IsServerFlag(*flag)) flags.push_back(flag);
  }
  std::sort(flags.begin(), flags.end(),
            [](const absl::CommandLineFlag* a, const absl::CommandLineFlag* b) {
              return a->Name() < b->Name();
            });
  std::string text = absl::StrCat(usage, "\n\nFlags:\n");
  for (const absl::CommandLineFlag* flag : flags) {
    absl::StrAppend(&text, "  --", flag->Name(), " (default: \"",
                    flag->DefaultValue(), "\")\n      ", flag->Help(), "\n");
  }
  absl::StrAppend(&text,
                  "  --help\n      Print this and exit 0.\n"
                  "  --version\n      Print the version and git commit and "
                  "exit 0.\n");
  return text;
}

ServerCommandLine UsageError(absl::string_view message) {
  return {Action::kUsageError,
          absl::StrCat("bnmlp-server: ", message,
                       "\nRun bnmlp-server --help for the flags.\n")};
}

// Echoed arguments are bounded: a command line can be long.
std::string Shown(absl::string_view arg) {
  constexpr size_t kShown = 100;
  return arg.size() <= kShown ? std::string(arg)
                              : absl::StrCat(arg.substr(0, kShown), "... (",
                                             arg.size(), " characters)");
}

}  // namespace

std::string VersionLine(const std::string& program) {
  return absl::StrCat(program, " ", ProjectVersion(), " (git ", GitCommit(),
                      ")");
}

ServerCommandLine ParseServerCommandLine(absl::Span<char* const> args,
                                         const std::string& usage) {
  for (size_t i = 1; i < args.size(); ++i) {
    absl::string_view arg = args[i];
    if (!absl::ConsumePrefix(&arg, "-")) {
      return UsageError(absl::StrCat("unexpected argument '", Shown(arg),
                                     "': bnmlp-server takes only flags"));
    }
    absl::ConsumePrefix(&arg, "-");
    const size_t equals = arg.find('=');
    std::string name(arg.substr(0, equals));
    const bool has_value = equals != absl::string_view::npos;
    std::string value = has_value ? std::string(arg.substr(equals + 1)) : "";
    if (name == "help" || name == "helpfull" || name == "h") {
      return {Action::kPrintHelp, HelpText(usage)};
    }
    if (name == "version") {
      return {Action::kPrintVersion, VersionLine("bnmlp-server") + "\n"};
    }
    absl::CommandLineFlag* flag = FindServerFlag(name);
    if (flag == nullptr && !has_value && absl::StartsWith(name, "no")) {
      flag = FindServerFlag(name.substr(2));
      if (flag != nullptr && flag->IsOfType<bool>()) {
        value = "false";
      } else {
        flag = nullptr;
      }
    } else if (flag != nullptr && !has_value) {
      if (flag->IsOfType<bool>()) {
        value = "true";
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return UsageError(absl::StrCat("flag --", name, " needs a value"));
      }
    }
    if (flag == nullptr) {
      return UsageError(absl::StrCat("unknown flag --", Shown(name)));
    }
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      return UsageError(absl::StrCat("bad value '", Shown(value), "' for --",
                                     flag->Name(), ": ", error));
    }
  }
  return {Action::kRun, ""};
}

}  // namespace bnmlp
