#include "client/cli/duration_flag.h"

#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"

namespace bnmlp::cli {

bool AbslParseFlag(absl::string_view text, SecondsOrDuration* duration,
                   std::string* error) {
  text = absl::StripAsciiWhitespace(text);
  double seconds = 0;
  // SimpleAtod also reads "inf" and "nan"; only a finite bare number is a
  // count of seconds, the rest goes to absl::ParseDuration ("inf" is valid).
  if (absl::SimpleAtod(text, &seconds) && std::isfinite(seconds)) {
    duration->value = absl::Seconds(seconds);
    return true;
  }
  absl::Duration parsed;
  if (!absl::ParseDuration(text, &parsed)) {
    *error =
        "expected seconds (e.g. 5 or 0.5) or a duration with a unit (e.g. "
        "5s, 500ms, 2m)";
    return false;
  }
  duration->value = parsed;
  return true;
}

std::string AbslUnparseFlag(const SecondsOrDuration& duration) {
  return absl::FormatDuration(duration.value);
}

}  // namespace bnmlp::cli
