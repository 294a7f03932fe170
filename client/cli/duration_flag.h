// A duration flag that also takes a bare number of seconds: --timeout 5 is
// five seconds, like `timeout 5` or curl's --max-time 5, while absl's own
// duration syntax (5s, 500ms, 2m, 1h30m) keeps working.
#ifndef BNMLP_CLIENT_CLI_DURATION_FLAG_H_
#define BNMLP_CLIENT_CLI_DURATION_FLAG_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace bnmlp::cli {

struct SecondsOrDuration {
  absl::Duration value;
};

// Abseil flag marshalling (found by ADL). Accepts a finite number of
// seconds ("5", "0.25") or anything absl::ParseDuration takes ("5s",
// "500ms", "inf"); the sign is not checked here. Prints absl's form ("5s").
bool AbslParseFlag(absl::string_view text, SecondsOrDuration* duration,
                   std::string* error);
std::string AbslUnparseFlag(const SecondsOrDuration& duration);

}  // namespace bnmlp::cli

#endif  // BNMLP_CLIENT_CLI_DURATION_FLAG_H_
