// The server's log: one line per event on stderr,
//   2024-05-01T12:00:00.123Z rpc=Predict model=m code=OK ms=0.412
// so operators can grep it and tests can read it.
#ifndef BNMLP_SERVER_EVENT_LOG_H_
#define BNMLP_SERVER_EVENT_LOG_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace bnmlp {

// Writes "<UTC time> <text>\n" to stderr with a single write, so lines from
// concurrent threads never interleave. Thread-safe.
void LogEvent(absl::string_view text);

// The text of one RPC's line: method, model (or "-"), the status code's
// name, the duration in milliseconds, and for errors the message (quoted).
std::string FormatRpcEvent(absl::string_view method, absl::string_view model,
                           const absl::Status& status, absl::Duration elapsed);

}  // namespace bnmlp

#endif  // BNMLP_SERVER_EVENT_LOG_H_
