#include "client/cli/model_file_format.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/cli/enum_flag.h"

namespace bnmlp::cli {

absl::StatusOr<v1::Format> ModelFileFormat(absl::string_view format_flag,
                                           absl::string_view path) {
  if (!format_flag.empty()) {
    return ParseEnumFlag<v1::Format>("format", format_flag);
  }
  const std::string lower = absl::AsciiStrToLower(path);
  if (absl::EndsWith(lower, ".onnx")) return v1::FORMAT_ONNX;
  if (absl::EndsWith(lower, ".bnmlp")) return v1::FORMAT_BNMLP;
  return absl::InvalidArgumentError(
      absl::StrCat("cannot tell the format of ", path,
                   " from its extension (.onnx or .bnmlp): give --format "
                   "onnx or --format bnmlp"));
}

}  // namespace bnmlp::cli
