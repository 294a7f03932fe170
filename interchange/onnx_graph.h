// An ONNX graph as bnmlp reads it: constants (initializers, Constant nodes,
// and the Identity and Transpose nodes exporters leave on them) and one
// straight chain of operations from the graph's single data input to its
// single output. What the operations mean is onnx_steps' business; this
// file checks the graph's structure: every value defined once, no cycle, no
// branch, nothing undefined.
#ifndef BNMLP_INTERCHANGE_ONNX_GRAPH_H_
#define BNMLP_INTERCHANGE_ONNX_GRAPH_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "interchange/onnx_tensor.h"
#include "onnx/onnx_pb.h"

namespace bnmlp {

// The most nodes a graph may have: a BN-MLP layer takes a handful (torch
// writes up to six: Identity aliases, MatMul or Gemm, BatchNormalization,
// the activation), and a model has at most kMaxLayers layers.
inline constexpr int kMaxGraphNodes = 10000;

// How a node is named in errors: "node 3 '/0/Gemm' (Gemm)", or "node 3
// (Gemm)" when it has no name (index 0-based, in the file's order).
std::string NodeLabel(const onnx::NodeProto& node, int index);

// One operation on the data path.
struct ChainOp {
  const onnx::NodeProto* node = nullptr;  // points into the parsed graph
  int index = 0;                          // position in graph.node
  // Per input of the node: the constant it reads, or null for the data input
  // and for omitted optional inputs (empty names).
  std::vector<std::shared_ptr<const FloatTensor>> constants;
  // Which of the node's inputs carries the data.
  int data_input = 0;

  std::string label() const { return NodeLabel(*node, index); }
};

struct OnnxChain {
  std::string input_name;
  // The declared feature count of the input and the output ([N, F]); -1
  // where the file leaves it symbolic or unset.
  int64_t input_features = -1;
  int64_t output_features = -1;
  // In execution order, Identity nodes on the data path left out.
  std::vector<ChainOp> ops;
};

// Reads `graph`'s structure. INVALID_ARGUMENT, naming the first node, value
// or tensor that does not fit and why, unless:
// - there is exactly one graph input without an initializer (the data, a
//   FLOAT tensor of rank 2 when its type is given) and one graph output;
// - every value is defined once (by an initializer, a graph input or one
//   node output) before it is read, and no node depends on itself;
// - every node is in the default ONNX domain; nodes that read only
//   constants are Constant ('value'), Identity or Transpose, which are
//   folded; every other node reads exactly one data value, the previous
//   data node's output (a straight chain), and writes one value;
// - the chain ends at the graph output.
// Constants are read with ReadFloatTensor (only those the chain uses); the
// constants materialized in all hold at most 4 * max_elements values
// (RESOURCE_EXHAUSTED beyond), so a hostile file cannot make it allocate
// much more than it holds.
absl::StatusOr<OnnxChain> ExtractChain(const onnx::GraphProto& graph,
                                       int64_t max_elements);

}  // namespace bnmlp

#endif  // BNMLP_INTERCHANGE_ONNX_GRAPH_H_
