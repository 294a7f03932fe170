// bnmlp models from ONNX files: those torch.onnx.export writes for an
// equivalent nn.Sequential and bnmlp's own exports.
//
// What is accepted (anything else is INVALID_ARGUMENT naming the first node,
// tensor or value that does not fit, and why):
// - an onnx.ModelProto (IR 3 to 10) importing the default ONNX opset 9 to
//   21, with one float input [N, features] and one output;
// - a straight chain of Linear layers: Gemm, or MatMul (+ Add), with
//   constant weights (initializers or Constant nodes, possibly behind the
//   Identity aliases and Transposes PyTorch writes);
// - after each hidden layer's product, BatchNormalization (inference mode)
//   and/or Relu, Tanh or Sigmoid, in one of bnmlp's arrangements, the same
//   in every hidden layer (see layer_assembly.h);
// - after the last product, Softmax (the model is a CLASSIFICATION model
//   and Predict returns its probabilities) or nothing (REGRESSION: Predict
//   returns the file's outputs as they are). A PyTorch classifier trained
//   with CrossEntropyLoss ends in Linear: export nn.Sequential(model,
//   nn.Softmax(dim=1)) to import it as a classifier.
// Imported models predict exactly what the file computes (within float
// rounding); files from bnmlp's folded exports import as NONE models (their
// BatchNorm is in the weights). The seed is 0.
#ifndef BNMLP_INTERCHANGE_ONNX_IMPORT_H_
#define BNMLP_INTERCHANGE_ONNX_IMPORT_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/model.h"
#include "core/model_config.h"

namespace bnmlp {

struct OnnxImportOptions {
  // The most trainable parameters the model may have (the server's
  // --max_parameters); more is RESOURCE_EXHAUSTED. No tensor of the file
  // is read into memory if it claims more values than this.
  int64_t max_parameters = kMaxParameterCount;
};

// The model in `file` (a serialized onnx.ModelProto); its config is the one
// the graph implies. Never allocates much more than the file's size.
absl::StatusOr<Model<float>> ImportOnnx(absl::string_view file,
                                        const OnnxImportOptions& options);

}  // namespace bnmlp

#endif  // BNMLP_INTERCHANGE_ONNX_IMPORT_H_
