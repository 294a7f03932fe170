// bnmlp models as ONNX inference graphs (opset 13), for ONNX Runtime and the
// rest of the ecosystem.
#ifndef BNMLP_INTERCHANGE_ONNX_EXPORT_H_
#define BNMLP_INTERCHANGE_ONNX_EXPORT_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "core/model.h"

namespace bnmlp {

struct OnnxExportOptions {
  // Fold each BatchNorm into a product (batch_norm_folding.h): fewer nodes,
  // the same outputs up to float rounding (within 1e-5).
  bool fold_batch_norm = false;
  // Recorded in the file's metadata (and model_version): which model this
  // is. The name may be empty.
  std::string model_name;
  int64_t model_version = 0;
};

// The ONNX opset and IR version of the files ExportOnnx writes.
inline constexpr int kOnnxExportOpset = 13;
inline constexpr int kOnnxExportIrVersion = 7;

// A serialized onnx.ModelProto computing `model`'s evaluation-mode outputs
// (what Predict returns): input "x" float [N, inputs] with a dynamic batch
// dimension "N", output "y" float [N, outputs]. Per hidden layer a Gemm
// (transB = 1, weights as initializers in torch.nn.Linear's [out, in]
// layout; no bias for pre-activation), a BatchNormalization with the running
// statistics (epsilon and momentum from the config; not with
// fold_batch_norm) and the activation (none for the identity), in the
// model's arrangement; then the output Gemm and, for classification,
// Softmax(axis=1). The model's architecture and options, its name and
// version and the bnmlp version are in metadata_props (keys "bnmlp.*") and
// doc_string. The file passes onnx::checker::check_model.
// RESOURCE_EXHAUSTED for a model too large for one protobuf message (2 GiB).
absl::StatusOr<std::string> ExportOnnx(const Model<float>& model,
                                       const OnnxExportOptions& options);

}  // namespace bnmlp

#endif  // BNMLP_INTERCHANGE_ONNX_EXPORT_H_
