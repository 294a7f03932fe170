// Names from a file (node, tensor and value names of an ONNX graph) as they
// may appear in an error message: escaped and bounded, since the file may be
// hostile.
#ifndef BNMLP_INTERCHANGE_QUOTED_NAME_H_
#define BNMLP_INTERCHANGE_QUOTED_NAME_H_

#include <string>

#include "absl/strings/string_view.h"

namespace bnmlp {

// 'name' with non-printable bytes C-escaped; names over 80 bytes show their
// first 80 followed by "...(N more bytes cut)". An empty name shows as ''.
std::string QuotedName(absl::string_view name);

}  // namespace bnmlp

#endif  // BNMLP_INTERCHANGE_QUOTED_NAME_H_
