// The operations of a BN-MLP's inference graph, read from the nodes of an
// OnnxChain: what each node computes, in bnmlp's terms, with its constants
// checked against the widths of the values that reach it.
#ifndef BNMLP_INTERCHANGE_ONNX_STEPS_H_
#define BNMLP_INTERCHANGE_ONNX_STEPS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/model_config.h"
#include "interchange/onnx_graph.h"

namespace bnmlp {

enum class StepKind { kProduct, kBatchNorm, kActivation, kSoftmax };

struct Step {
  StepKind kind = StepKind::kProduct;
  // The node it came from (NodeLabel), for errors.
  std::string label;

  // kProduct: y = W x + b per sample, W [out, in] row-major like
  // torch.nn.Linear.weight; bias empty when the node has none.
  int64_t out = 0;
  int64_t in = 0;
  std::vector<float> weight;
  std::vector<float> bias;

  // kBatchNorm in inference mode: y = scale (x - mean) / sqrt(var +
  // epsilon) + shift, per feature.
  std::vector<float> scale, shift, mean, var;
  float epsilon = 1e-5f;
  // ONNX's momentum (running = momentum running + (1 - momentum) batch),
  // 1 - PyTorch's.
  float momentum = 0.9f;

  // kActivation: relu, tanh or sigmoid (identity has no node).
  Activation activation = Activation::kIdentity;
};

// The steps of `chain`, in order. Gemm (transA 0; any transB, alpha and
// beta, folded into W and b) and MatMul with a constant [in, out] matrix
// become products; an Add of a constant [out] vector right after a product
// becomes (or adds to) its bias; BatchNormalization in inference mode (no
// training_mode) a BatchNorm; Relu, Tanh and Sigmoid activations; Softmax
// over the feature axis (1 or -1) a softmax. Anything else, an unknown
// attribute, or a constant whose shape does not fit the width of the values
// reaching it is INVALID_ARGUMENT naming the node.
absl::StatusOr<std::vector<Step>> ReadSteps(const OnnxChain& chain);

}  // namespace bnmlp

#endif  // BNMLP_INTERCHANGE_ONNX_STEPS_H_
