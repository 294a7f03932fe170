#include "interchange/onnx_graph.h"

#include <algorithm>
#include <functional>
#include <queue>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "interchange/quoted_name.h"

namespace bnmlp {
namespace {

absl::Status Invalid(absl::string_view where, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", what));
}

// The graph's constants: read from their TensorProto on first use, shared by
// the Identity nodes that alias them.
class ConstantTable {
 public:
  explicit ConstantTable(int64_t max_elements)
      : max_elements_(max_elements), budget_(4 * max_elements) {}

  bool Contains(const std::string& name) const { return index_.contains(name); }

  void AddUnread(const std::string& name, const onnx::TensorProto* proto,
                 std::string what) {
    index_[name] = entries_.size();
    entries_.push_back({proto, std::move(what), nullptr});
  }

  void Alias(const std::string& alias, const std::string& name) {
    index_[alias] = index_.at(name);
  }

  absl::Status AddValue(const std::string& name, FloatTensor value,
                        std::string what) {
    BNMLP_RETURN_IF_ERROR(Charge(static_cast<int64_t>(value.values.size())));
    index_[name] = entries_.size();
    entries_.push_back({nullptr, std::move(what),
                        std::make_shared<const FloatTensor>(std::move(value))});
    return absl::OkStatus();
  }

  // The constant `name` (which Contains).
  absl::StatusOr<std::shared_ptr<const FloatTensor>> Get(
      const std::string& name) {
    Entry& entry = entries_[index_.at(name)];
    if (entry.value == nullptr) {
      BNMLP_ASSIGN_OR_RETURN(
          FloatTensor value,
          ReadFloatTensor(*entry.proto, entry.what, max_elements_));
      BNMLP_RETURN_IF_ERROR(Charge(static_cast<int64_t>(value.values.size())));
      entry.value = std::make_shared<const FloatTensor>(std::move(value));
    }
    return entry.value;
  }

 private:
  struct Entry {
    const onnx::TensorProto* proto;  // until read
    std::string what;                // how errors name it
    std::shared_ptr<const FloatTensor> value;
  };

  absl::Status Charge(int64_t elements) {
    if (elements > budget_) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "the graph's constants hold more than ", 4 * max_elements_,
          " values in all (4 x the most parameters a model on this server "
          "may have)"));
    }
    budget_ -= elements;
    return absl::OkStatus();
  }

  const int64_t max_elements_;
  int64_t budget_;
  std::vector<Entry> entries_;
  absl::flat_hash_map<std::string, size_t> index_;
};

// A graph input or output must be a FLOAT [N, F] tensor; returns F, or -1
// if the file leaves it unset or symbolic.
absl::StatusOr<int64_t> FeatureCount(const onnx::ValueInfoProto& value,
                                     absl::string_view role) {
  const std::string where =
      absl::StrCat("graph ", role, " ", QuotedName(value.name()));
  if (!value.has_type()) return -1;
  if (!value.type().has_tensor_type()) {
    return Invalid(where, "expected a tensor");
  }
  const onnx::TypeProto::Tensor& tensor = value.type().tensor_type();
  if (tensor.elem_type() != onnx::TensorProto::UNDEFINED &&
      tensor.elem_type() != onnx::TensorProto::FLOAT) {
    return Invalid(where, absl::StrCat("expected element type FLOAT, got ",
                                       DataTypeName(tensor.elem_type())));
  }
  if (!tensor.has_shape()) return -1;
  if (tensor.shape().dim_size() != 2) {
    return Invalid(where,
                   absl::StrCat("expected shape [N, features], got ",
                                tensor.shape().dim_size(), " dimensions"));
  }
  for (const onnx::TensorShapeProto::Dimension& dim : tensor.shape().dim()) {
    if (dim.has_dim_value() && dim.dim_value() < 0) {
      return Invalid(where, absl::StrCat("dimensions must be >= 0, got ",
                                         dim.dim_value()));
    }
  }
  const onnx::TensorShapeProto::Dimension& features = tensor.shape().dim(1);
  if (!features.has_dim_value()) return -1;
  if (features.dim_value() == 0) return Invalid(where, "has 0 features");
  return features.dim_value();
}

// The one graph input without an initializer.
absl::StatusOr<const onnx::ValueInfoProto*> DataInput(
    const onnx::GraphProto& graph, const ConstantTable& constants) {
  std::vector<const onnx::ValueInfoProto*> data;
  for (const onnx::ValueInfoProto& input : graph.input()) {
    if (!constants.Contains(input.name())) data.push_back(&input);
  }
  if (data.size() == 1) return data.front();
  if (data.empty()) {
    return absl::InvalidArgumentError(
        "the graph has no data input (every graph input has an "
        "initializer); expected one input x of shape [N, features]");
  }
  std::vector<std::string> names;
  for (size_t i = 0; i < data.size() && i < 4; ++i) {
    names.push_back(QuotedName(data[i]->name()));
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "the graph has ", data.size(), " inputs without an initializer (",
      absl::StrJoin(names, ", "), data.size() > 4 ? ", ..." : "",
      "); a bnmlp model takes one data input and stores every weight in the "
      "file (torch.onnx.export(..., export_params=True))"));
}

// Which node writes each value; INVALID_ARGUMENT for a value defined twice.
absl::StatusOr<absl::flat_hash_map<std::string, int>> Producers(
    const onnx::GraphProto& graph, const ConstantTable& constants,
    const std::string& data_input) {
  absl::flat_hash_map<std::string, int> producers;
  for (int i = 0; i < graph.node_size(); ++i) {
    for (const std::string& output : graph.node(i).output()) {
      if (output.empty()) continue;
      const bool taken = output == data_input || constants.Contains(output) ||
                         producers.contains(output);
      if (taken) {
        return Invalid(
            NodeLabel(graph.node(i), i),
            absl::StrCat("writes ", QuotedName(output),
                         ", which is already defined; an ONNX graph defines "
                         "each value once"));
      }
      producers[output] = i;
    }
  }
  return producers;
}

// A node on a cycle, given nodes that could not be ordered (each still has
// an unordered producer): following unordered producers must repeat a node.
int NodeOnCycle(const onnx::GraphProto& graph,
                const absl::flat_hash_map<std::string, int>& producers,
                const std::vector<int>& pending, int start) {
  std::vector<bool> seen(graph.node_size(), false);
  int node = start;
  while (!seen[node]) {
    seen[node] = true;
    for (const std::string& input : graph.node(node).input()) {
      auto it = producers.find(input);
      if (it != producers.end() && pending[it->second] > 0) {
        node = it->second;
        break;
      }
    }
  }
  return node;
}

// The nodes in a topological order (the file's order when it is one).
absl::StatusOr<std::vector<int>> TopologicalOrder(
    const onnx::GraphProto& graph,
    const absl::flat_hash_map<std::string, int>& producers,
    const ConstantTable& constants, const std::string& data_input) {
  const int n = graph.node_size();
  std::vector<int> pending(n, 0);
  std::vector<std::vector<int>> consumers(n);
  for (int i = 0; i < n; ++i) {
    for (const std::string& input : graph.node(i).input()) {
      if (input.empty() || input == data_input || constants.Contains(input)) {
        continue;
      }
      auto it = producers.find(input);
      if (it == producers.end()) {
        return Invalid(NodeLabel(graph.node(i), i),
                       absl::StrCat("reads ", QuotedName(input),
                                    ", which no initializer, graph input or "
                                    "node defines"));
      }
      consumers[it->second].push_back(i);
      ++pending[i];
    }
  }
  std::priority_queue<int, std::vector<int>, std::greater<int>> ready;
  for (int i = 0; i < n; ++i) {
    if (pending[i] == 0) ready.push(i);
  }
  std::vector<int> order;
  order.reserve(n);
  while (!ready.empty()) {
    const int node = ready.top();
    ready.pop();
    order.push_back(node);
    for (int consumer : consumers[node]) {
      if (--pending[consumer] == 0) ready.push(consumer);
    }
  }
  if (static_cast<int>(order.size()) == n) return order;
  int stuck = 0;
  while (pending[stuck] == 0) ++stuck;
  const int cycle = NodeOnCycle(graph, producers, pending, stuck);
  return Invalid(NodeLabel(graph.node(cycle), cycle),
                 "is on a cycle: it depends on its own output (an ONNX graph "
                 "must be acyclic)");
}

// A Constant node: its `value` tensor becomes a constant.
absl::Status AddConstantNode(const onnx::NodeProto& node,
                             const std::string& label,
                             ConstantTable& constants) {
  if (node.input_size() != 0 || node.output_size() != 1 ||
      node.output(0).empty()) {
    return Invalid(label, "expected no inputs and one output");
  }
  if (node.attribute_size() != 1 || node.attribute(0).name() != "value" ||
      !node.attribute(0).has_t()) {
    return Invalid(label, "only the 'value' attribute (a tensor) is supported");
  }
  constants.AddUnread(node.output(0), &node.attribute(0).t(),
                      absl::StrCat(label, " value"));
  return absl::OkStatus();
}

absl::StatusOr<FloatTensor> Transposed(const FloatTensor& in,
                                       const onnx::NodeProto& node,
                                       const std::string& label) {
  std::vector<int64_t> perm;
  for (const onnx::AttributeProto& attribute : node.attribute()) {
    if (attribute.name() != "perm") {
      return Invalid(label, absl::StrCat("unsupported attribute ",
                                         QuotedName(attribute.name())));
    }
    perm.assign(attribute.ints().begin(), attribute.ints().end());
  }
  if (in.rank() > 2) {
    return Invalid(label, "transposes a tensor of more than 2 dimensions");
  }
  if (in.rank() < 2) {
    if (!perm.empty() && perm != std::vector<int64_t>(in.rank(), 0)) {
      return Invalid(label, "perm does not fit the tensor's rank");
    }
    return in;
  }
  if (perm == std::vector<int64_t>{0, 1}) return in;
  if (!perm.empty() && perm != std::vector<int64_t>{1, 0}) {
    return Invalid(label, "perm must be [1, 0] or [0, 1]");
  }
  const int64_t rows = in.dims[0], cols = in.dims[1];
  FloatTensor out;
  out.dims = {cols, rows};
  out.values.resize(in.values.size());
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      out.values[c * rows + r] = in.values[r * cols + c];
    }
  }
  return out;
}

// A node reading only constants: Identity and Transpose fold into a new
// constant.
absl::Status FoldConstantNode(const onnx::NodeProto& node,
                              const std::string& label,
                              ConstantTable& constants) {
  const std::string& op = node.op_type();
  if ((op != "Identity" && op != "Transpose") || node.input_size() != 1 ||
      node.output_size() != 1 || node.input(0).empty() ||
      node.output(0).empty()) {
    return Invalid(
        label,
        "computes on constants only, which bnmlp does only for Constant, "
        "Identity and Transpose; export with the constants folded "
        "(torch.onnx.export(..., do_constant_folding=True))");
  }
  if (op == "Identity") {
    if (node.attribute_size() != 0) {
      return Invalid(label, "Identity takes no attributes");
    }
    constants.Alias(node.output(0), node.input(0));
    return absl::OkStatus();
  }
  BNMLP_ASSIGN_OR_RETURN(std::shared_ptr<const FloatTensor> in,
                         constants.Get(node.input(0)));
  BNMLP_ASSIGN_OR_RETURN(FloatTensor out, Transposed(*in, node, label));
  return constants.AddValue(node.output(0), std::move(out),
                            absl::StrCat(label, " output"));
}

// The node's single output; INVALID_ARGUMENT if it writes more than one.
absl::StatusOr<std::string> SingleOutput(const onnx::NodeProto& node,
                                         const std::string& label) {
  for (int i = 1; i < node.output_size(); ++i) {
    if (!node.output(i).empty()) {
      return Invalid(
          label, absl::StrCat("writes ", node.output_size(),
                              " values; bnmlp imports inference graphs, whose "
                              "operations write one (export in evaluation "
                              "mode: model.eval())"));
    }
  }
  if (node.output_size() == 0 || node.output(0).empty()) {
    return Invalid(label, "writes no value");
  }
  return node.output(0);
}

// Appends a node that reads the data to the chain, whose end is `tip`.
absl::Status AddDataNode(const onnx::NodeProto& node, int index,
                         ConstantTable& constants, std::string& tip,
                         OnnxChain& chain) {
  const std::string label = NodeLabel(node, index);
  ChainOp op{&node, index, {}, -1};
  op.constants.resize(node.input_size());
  for (int i = 0; i < node.input_size(); ++i) {
    const std::string& input = node.input(i);
    if (input.empty()) continue;
    if (constants.Contains(input)) {
      BNMLP_ASSIGN_OR_RETURN(op.constants[i], constants.Get(input));
      continue;
    }
    if (op.data_input >= 0) {
      return Invalid(
          label, absl::StrCat("reads two computed values (",
                              QuotedName(node.input(op.data_input)), " and ",
                              QuotedName(input),
                              "); bnmlp imports a straight chain where "
                              "each operation reads the previous one's "
                              "output and constants"));
    }
    op.data_input = i;
  }
  if (node.input(op.data_input) != tip) {
    return Invalid(
        label,
        absl::StrCat("reads ", QuotedName(node.input(op.data_input)),
                     " where the chain is at ", QuotedName(tip),
                     "; bnmlp imports a straight chain of operations (no "
                     "branches, each computed value read once)"));
  }
  BNMLP_ASSIGN_OR_RETURN(tip, SingleOutput(node, label));
  if (node.op_type() == "Identity") return absl::OkStatus();
  chain.ops.push_back(std::move(op));
  return absl::OkStatus();
}

absl::Status AddNode(const onnx::NodeProto& node, int index,
                     ConstantTable& constants, std::string& tip,
                     OnnxChain& chain) {
  const std::string label = NodeLabel(node, index);
  if (!node.domain().empty() && node.domain() != "ai.onnx") {
    return Invalid(
        label, absl::StrCat("is in operator domain ", QuotedName(node.domain()),
                            "; bnmlp imports the default ONNX domain"));
  }
  if (node.op_type() == "Constant") {
    return AddConstantNode(node, label, constants);
  }
  bool reads_data = false;
  for (const std::string& input : node.input()) {
    reads_data |= !input.empty() && !constants.Contains(input);
  }
  if (!reads_data) return FoldConstantNode(node, label, constants);
  return AddDataNode(node, index, constants, tip, chain);
}

absl::Status CheckOutput(const onnx::GraphProto& graph, const std::string& tip,
                         const std::string& input, OnnxChain& chain) {
  if (graph.output_size() != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("the graph has ", graph.output_size(),
                     " outputs; a bnmlp model has one, of shape [N, outputs]"));
  }
  const onnx::ValueInfoProto& output = graph.output(0);
  if (tip == input) {
    return absl::InvalidArgumentError(
        "the graph computes nothing from its input (no Gemm or MatMul on it)");
  }
  if (output.name() != tip) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the graph's output ", QuotedName(output.name()),
        " is not the end of the chain of operations on the input (",
        QuotedName(tip), ")"));
  }
  BNMLP_ASSIGN_OR_RETURN(chain.output_features, FeatureCount(output, "output"));
  return absl::OkStatus();
}

}  // namespace

std::string NodeLabel(const onnx::NodeProto& node, int index) {
  // A plain op type reads better without quotes.
  const absl::string_view op = node.op_type();
  const bool plain =
      !op.empty() && op.size() <= 80 &&
      std::all_of(op.begin(), op.end(), [](char c) {
        return absl::ascii_isalnum(static_cast<unsigned char>(c));
      });
  const std::string shown_op = plain ? std::string(op) : QuotedName(op);
  if (node.name().empty()) {
    return absl::StrCat("node ", index, " (", shown_op, ")");
  }
  return absl::StrCat("node ", index, " ", QuotedName(node.name()), " (",
                      shown_op, ")");
}

absl::StatusOr<OnnxChain> ExtractChain(const onnx::GraphProto& graph,
                                       int64_t max_elements) {
  if (graph.node_size() > kMaxGraphNodes) {
    return absl::InvalidArgumentError(
        absl::StrCat("the graph has ", graph.node_size(),
                     " nodes; a bnmlp model has at most ", kMaxGraphNodes));
  }
  if (graph.sparse_initializer_size() > 0) {
    return absl::InvalidArgumentError(
        "the graph has sparse initializers; bnmlp imports dense tensors");
  }
  ConstantTable constants(max_elements);
  for (const onnx::TensorProto& initializer : graph.initializer()) {
    if (initializer.name().empty() || constants.Contains(initializer.name())) {
      return absl::InvalidArgumentError(absl::StrCat(
          "initializer ", QuotedName(initializer.name()),
          initializer.name().empty() ? " has no name" : " is defined twice"));
    }
    constants.AddUnread(
        initializer.name(), &initializer,
        absl::StrCat("initializer ", QuotedName(initializer.name())));
  }
  BNMLP_ASSIGN_OR_RETURN(const onnx::ValueInfoProto* input,
                         DataInput(graph, constants));
  OnnxChain chain;
  chain.input_name = input->name();
  BNMLP_ASSIGN_OR_RETURN(chain.input_features, FeatureCount(*input, "input"));
  BNMLP_ASSIGN_OR_RETURN(auto producers,
                         Producers(graph, constants, chain.input_name));
  BNMLP_ASSIGN_OR_RETURN(
      std::vector<int> order,
      TopologicalOrder(graph, producers, constants, chain.input_name));
  std::string tip = chain.input_name;
  for (int index : order) {
    BNMLP_RETURN_IF_ERROR(
        AddNode(graph.node(index), index, constants, tip, chain));
  }
  BNMLP_RETURN_IF_ERROR(CheckOutput(graph, tip, chain.input_name, chain));
  return chain;
}

}  // namespace bnmlp
