#include "tests/e2e/reflection/grpcurl_script.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace bnmlp::testing {
namespace {

// Splits a command line into words the way the shell would for the forms
// the script uses: whitespace separates, '...' and "..." quote (no escapes).
absl::StatusOr<std::vector<std::string>> ShellWords(absl::string_view line) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (char c : line) {
    if (quote != 0) {
      if (c == quote) {
        quote = 0;
      } else {
        word.push_back(c);
      }
    } else if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (c == ' ' || c == '\t') {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
    } else {
      word.push_back(c);
      in_word = true;
    }
  }
  if (quote != 0) return absl::InvalidArgumentError("unterminated quote");
  if (in_word) words.push_back(std::move(word));
  return words;
}

absl::StatusOr<GrpcurlCommand> ParseCommand(const std::vector<std::string>& w,
                                            int line) {
  GrpcurlCommand command;
  command.line = line;
  size_t i = 1;  // w[0] == "grpcurl"
  if (i >= w.size() || w[i] != "-plaintext") {
    return absl::InvalidArgumentError("expected -plaintext after grpcurl");
  }
  ++i;
  if (i < w.size() && w[i] == "-d") {
    if (i + 1 >= w.size()) return absl::InvalidArgumentError("-d needs JSON");
    command.request_json = w[i + 1];
    i += 2;
  }
  if (i >= w.size() || w[i] != "$ADDR") {
    return absl::InvalidArgumentError("expected \"$ADDR\" as the address");
  }
  ++i;
  const std::vector<std::string> rest(w.begin() + i, w.end());
  if (rest.size() == 1 && rest[0] == "list") {
    command.verb = GrpcurlCommand::Verb::kList;
  } else if (rest.size() == 2 && rest[0] == "describe") {
    command.verb = GrpcurlCommand::Verb::kDescribe;
    command.target = rest[1];
  } else if (rest.size() == 1 && absl::StrContains(rest[0], '/')) {
    command.verb = GrpcurlCommand::Verb::kCall;
    command.target = rest[0];
  } else {
    return absl::InvalidArgumentError(
        "expected list, describe <symbol> or <package.Service/Method> after "
        "the address");
  }
  return command;
}

}  // namespace

absl::StatusOr<std::vector<GrpcurlCommand>> ParseGrpcurlScript(
    absl::string_view script) {
  std::vector<GrpcurlCommand> commands;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(script, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (!absl::StartsWith(line, "grpcurl ")) continue;
    auto fail = [&](const absl::Status& status) {
      return absl::InvalidArgumentError(absl::StrCat(
          "line ", line_number, ": ", status.message(), ": ", line));
    };
    if (absl::EndsWith(line, "\\")) {
      return fail(absl::InvalidArgumentError("keep one command per line"));
    }
    absl::StatusOr<std::vector<std::string>> words = ShellWords(line);
    if (!words.ok()) return fail(words.status());
    absl::StatusOr<GrpcurlCommand> command = ParseCommand(*words, line_number);
    if (!command.ok()) return fail(command.status());
    commands.push_back(*std::move(command));
  }
  return commands;
}

}  // namespace bnmlp::testing
