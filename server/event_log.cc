#include "server/event_log.h"

#include <unistd.h>

#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"

namespace bnmlp {
namespace {

// Status messages quote client input; a log line must stay a line.
constexpr size_t kLoggedMessageLength = 200;

std::string Bounded(absl::string_view text, size_t limit) {
  if (text.size() <= limit) return absl::CHexEscape(text);
  return absl::StrCat(absl::CHexEscape(text.substr(0, limit)), "... (",
                      text.size() - limit, " more bytes)");
}

}  // namespace

absl::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kWarning:
      return "WARNING";
    case LogLevel::kError:
      return "ERROR";
    case LogLevel::kInfo:
      break;
  }
  return "INFO";
}

LogLevel LevelOf(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return LogLevel::kInfo;
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kDataLoss:
    case absl::StatusCode::kUnimplemented:
      return LogLevel::kError;
    default:
      return LogLevel::kWarning;
  }
}

void LogEvent(LogLevel level, absl::string_view text) {
  std::string line =
      absl::StrCat(absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(),
                                    absl::UTCTimeZone()),
                   " ", LogLevelName(level), " ", text, "\n");
  // One write(2): POSIX keeps it whole against other writers of stderr.
  // A full or closed stderr cannot be reported anywhere, so it is ignored.
  ssize_t ignored = write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

void LogEvent(absl::string_view text) { LogEvent(LogLevel::kInfo, text); }

std::string FormatRpcEvent(absl::string_view method,
                           absl::string_view request_id, absl::string_view peer,
                           absl::string_view model, const absl::Status& status,
                           absl::Duration elapsed, absl::string_view caller) {
  std::string text = absl::StrFormat(
      "rpc=%s id=%s peer=%s%s model=%s code=%s ms=%.3f", method, request_id,
      peer.empty() ? "-" : Bounded(peer, 100),
      caller.empty() ? "" : absl::StrCat(" caller=", Bounded(caller, 64)),
      model.empty() ? "-" : Bounded(model, 64),
      absl::StatusCodeToString(status.code()),
      absl::ToDoubleMilliseconds(elapsed));
  if (!status.ok()) {
    absl::StrAppend(&text, " error=\"",
                    Bounded(status.message(), kLoggedMessageLength), "\"");
  }
  return text;
}

}  // namespace bnmlp
