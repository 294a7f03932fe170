// Human-readable text for models and their parameters (the CLI's default
// output; --json prints the messages themselves).
#ifndef BNMLP_CLIENT_CLI_MODEL_TEXT_H_
#define BNMLP_CLIENT_CLI_MODEL_TEXT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "bnmlp/v1/bnmlp.pb.h"
#include "client/tensor_conversion.h"

namespace bnmlp::cli {

// "784-256-128-10"
std::string FormatLayerSizes(absl::Span<const int64_t> layer_sizes);

// Several lines: architecture, options, version, parameter count, training
// state and the last training figures.
std::string FormatModelInfo(const v1::ModelInfo& info);

// One header line and one line per model (name, layers, task,
// normalization, activation, version, parameters, state); a note when empty.
std::string FormatModelTable(absl::Span<const v1::ModelInfo> models);

// Per layer: each present tensor's shape, L2 norm, min and max; absent
// tensors are listed as such.
std::string FormatParameters(const client::ModelParameters& parameters);

}  // namespace bnmlp::cli

#endif  // BNMLP_CLIENT_CLI_MODEL_TEXT_H_
