#include "client/cli/layer_spec.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace bnmlp::cli {

absl::StatusOr<std::vector<int64_t>> ParseLayerSizes(absl::string_view spec) {
  constexpr absl::string_view kExpected =
      "expected at least two positive sizes like 784-256-128-10";
  const bool uses_commas = spec.find(',') != absl::string_view::npos;
  const std::vector<absl::string_view> entries =
      absl::StrSplit(spec, uses_commas ? ',' : '-');
  if (absl::StripAsciiWhitespace(spec).empty() || entries.size() < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("--layers='", spec, "': ", kExpected));
  }
  std::vector<int64_t> sizes;
  for (size_t i = 0; i < entries.size(); ++i) {
    int64_t size = 0;
    if (!absl::SimpleAtoi(entries[i], &size) || size <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--layers='", spec, "': entry ", i + 1, " ('",
                       absl::StripAsciiWhitespace(entries[i]),
                       "') is not a positive integer; ", kExpected));
    }
    sizes.push_back(size);
  }
  return sizes;
}

}  // namespace bnmlp::cli
