#include "server/event_log.h"

#include <unistd.h>

#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"

namespace bnmlp {

void LogEvent(absl::string_view text) {
  std::string line =
      absl::StrCat(absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(),
                                    absl::UTCTimeZone()),
                   " ", text, "\n");
  // One write(2): POSIX keeps it whole against other writers of stderr.
  // A full or closed stderr cannot be reported anywhere, so it is ignored.
  ssize_t ignored = write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

std::string FormatRpcEvent(absl::string_view method, absl::string_view model,
                           const absl::Status& status, absl::Duration elapsed) {
  std::string text = absl::StrFormat(
      "rpc=%s model=%s code=%s ms=%.3f", method,
      model.empty() ? "-" : absl::CHexEscape(model.substr(0, 64)),
      absl::StatusCodeToString(status.code()),
      absl::ToDoubleMilliseconds(elapsed));
  if (!status.ok()) {
    absl::StrAppend(&text, " error=\"", absl::CHexEscape(status.message()),
                    "\"");
  }
  return text;
}

}  // namespace bnmlp
