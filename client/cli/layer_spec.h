// Parses --layers: the layer sizes of a BN-MLP written "784-256-128-10" or
// "784,256,128,10" (inputs, hidden layers..., outputs).
#ifndef BNMLP_CLIENT_CLI_LAYER_SPEC_H_
#define BNMLP_CLIENT_CLI_LAYER_SPEC_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace bnmlp::cli {

// At least two positive integers separated by '-' or ',' (surrounding
// spaces allowed). INVALID_ARGUMENT naming --layers, the offending entry and
// the expected form otherwise.
absl::StatusOr<std::vector<int64_t>> ParseLayerSizes(absl::string_view spec);

}  // namespace bnmlp::cli

#endif  // BNMLP_CLIENT_CLI_LAYER_SPEC_H_
