// The server's log: one line per event on stderr,
//   2026-05-01T12:00:00.123Z INFO rpc=Predict id=5f3a09c1-000000000042
//       peer=ipv4:127.0.0.1:53422 model=m code=OK ms=0.412
// (one line), so operators can grep it and tests can read it.
#ifndef BNMLP_SERVER_EVENT_LOG_H_
#define BNMLP_SERVER_EVENT_LOG_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace bnmlp {

enum class LogLevel { kInfo, kWarning, kError };

// "INFO", "WARNING", "ERROR".
absl::string_view LogLevelName(LogLevel level);

// The level of a call that ended with `code`: INFO for OK; WARNING for what
// a client did or asked for (bad input, not found, cancelled, refused,
// limits, deadlines, shutdown); ERROR for what should not happen (INTERNAL,
// UNKNOWN, DATA_LOSS, UNIMPLEMENTED).
LogLevel LevelOf(absl::StatusCode code);

// Writes "<UTC time> <LEVEL> <text>\n" to stderr with a single write, so
// lines from concurrent threads never interleave. Thread-safe.
void LogEvent(LogLevel level, absl::string_view text);
// An INFO line.
void LogEvent(absl::string_view text);

// The text of one RPC's line: method, request id, peer, the caller when
// known (`caller=writer:1a2b3c4d`, see server/token_auth.h), model (or "-"),
// the status code's name, the duration in milliseconds, and for errors the
// message (quoted, escaped, at most ~200 characters of it).
std::string FormatRpcEvent(absl::string_view method,
                           absl::string_view request_id, absl::string_view peer,
                           absl::string_view model, const absl::Status& status,
                           absl::Duration elapsed,
                           absl::string_view caller = "");

}  // namespace bnmlp

#endif  // BNMLP_SERVER_EVENT_LOG_H_
