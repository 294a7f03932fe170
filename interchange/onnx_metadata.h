// What an exported ONNX file says about the bnmlp model in it, for people
// and tools: metadata_props (keys "bnmlp.*") and the doc_string.
#ifndef BNMLP_INTERCHANGE_ONNX_METADATA_H_
#define BNMLP_INTERCHANGE_ONNX_METADATA_H_

#include <string>
#include <utility>
#include <vector>

#include "core/model_config.h"
#include "interchange/onnx_export.h"

namespace bnmlp {

// Keys and values, in a fixed order: bnmlp.model_name, bnmlp.model_version,
// bnmlp.layer_sizes ("784,128,10"), bnmlp.task ("classification"),
// bnmlp.normalization ("pre_activation"), bnmlp.activation ("relu"),
// bnmlp.batch_norm_momentum, bnmlp.batch_norm_epsilon,
// bnmlp.batch_norm_folded ("true"/"false"), bnmlp.version (the bnmlp
// release) and bnmlp.git_commit. Informational: import reads the graph.
std::vector<std::pair<std::string, std::string>> ExportMetadata(
    const ModelConfig& config, const OnnxExportOptions& options);

// One paragraph describing the model, its input and output.
std::string ExportDocString(const ModelConfig& config,
                            const OnnxExportOptions& options);

}  // namespace bnmlp

#endif  // BNMLP_INTERCHANGE_ONNX_METADATA_H_
