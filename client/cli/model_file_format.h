// Which model file format a path means: bnmlp export and import take it
// from --format or from the file's extension.
#ifndef BNMLP_CLIENT_CLI_MODEL_FILE_FORMAT_H_
#define BNMLP_CLIENT_CLI_MODEL_FILE_FORMAT_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "bnmlp/v1/bnmlp.pb.h"

namespace bnmlp::cli {

// --format (onnx or bnmlp, any case) when `format_flag` is not empty, else
// the extension of `path` (.onnx, .bnmlp, any case); INVALID_ARGUMENT (a
// usage error) naming the file when neither tells.
absl::StatusOr<v1::Format> ModelFileFormat(absl::string_view format_flag,
                                           absl::string_view path);

}  // namespace bnmlp::cli

#endif  // BNMLP_CLIENT_CLI_MODEL_FILE_FORMAT_H_
