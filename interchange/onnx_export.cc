#include "interchange/onnx_export.h"

#include <limits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/build_info.h"
#include "interchange/batch_norm_folding.h"
#include "interchange/onnx_metadata.h"
#include "interchange/onnx_tensor.h"
#include "onnx/onnx_pb.h"

namespace bnmlp {
namespace {

// Builds the graph node by node, keeping the name of the value computed so
// far.
class GraphWriter {
 public:
  GraphWriter(onnx::GraphProto* graph, std::string input)
      : graph_(graph), value_(std::move(input)) {}

  void AddInitializer(const std::string& name, const RowMajorMatrix<float>& m) {
    WriteFloatTensor(name, {m.rows(), m.cols()}, m.data(),
                     graph_->add_initializer());
  }
  void AddInitializer(const std::string& name, const Vector<float>& v) {
    WriteFloatTensor(name, {v.size()}, v.data(), graph_->add_initializer());
  }

  // A node reading the current value and `constants`, whose output becomes
  // the current value.
  onnx::NodeProto* AddNode(const std::string& op, const std::string& name,
                           const std::vector<std::string>& constants) {
    onnx::NodeProto* node = graph_->add_node();
    node->set_op_type(op);
    node->set_name(name);
    node->add_input(value_);
    for (const std::string& constant : constants) node->add_input(constant);
    value_ = absl::StrCat(name, "_output");
    node->add_output(value_);
    return node;
  }

  // prefix/Gemm: x W^T (+ b), weight [out, in].
  void AddProduct(const std::string& prefix, const RowMajorMatrix<float>& w,
                  const Vector<float>* bias) {
    std::vector<std::string> inputs = {prefix + ".weight"};
    AddInitializer(inputs[0], w);
    if (bias != nullptr) {
      inputs.push_back(prefix + ".bias");
      AddInitializer(inputs[1], *bias);
    }
    onnx::NodeProto* gemm = AddNode("Gemm", prefix + "/Gemm", inputs);
    AddAttribute(gemm, "transB", int64_t{1});
  }

  void AddBatchNorm(const std::string& prefix, const LayerParameters<float>& p,
                    const ModelConfig& config) {
    const std::string bn = prefix + ".batch_norm";
    AddInitializer(bn + ".weight", p.gamma);
    AddInitializer(bn + ".bias", p.beta);
    AddInitializer(bn + ".running_mean", p.running_mean);
    AddInitializer(bn + ".running_var", p.running_var);
    onnx::NodeProto* node =
        AddNode("BatchNormalization", prefix + "/BatchNormalization",
                {bn + ".weight", bn + ".bias", bn + ".running_mean",
                 bn + ".running_var"});
    AddAttribute(node, "epsilon",
                 static_cast<float>(config.batch_norm_epsilon));
    // ONNX's momentum weighs the running statistic: 1 - PyTorch's.
    AddAttribute(node, "momentum",
                 static_cast<float>(1.0 - config.batch_norm_momentum));
  }

  void AddActivation(const std::string& prefix, Activation activation) {
    switch (activation) {
      case Activation::kRelu:
        AddNode("Relu", prefix + "/Relu", {});
        return;
      case Activation::kTanh:
        AddNode("Tanh", prefix + "/Tanh", {});
        return;
      case Activation::kSigmoid:
        AddNode("Sigmoid", prefix + "/Sigmoid", {});
        return;
      case Activation::kIdentity:
        return;
    }
  }

  void AddSoftmax() {
    AddAttribute(AddNode("Softmax", "output/Softmax", {}), "axis", int64_t{1});
  }

  // The last node's output becomes the graph output `name`.
  void RenameOutput(const std::string& name) {
    onnx::NodeProto* last = graph_->mutable_node(graph_->node_size() - 1);
    last->set_output(0, name);
    value_ = name;
  }

 private:
  static void AddAttribute(onnx::NodeProto* node, const std::string& name,
                           int64_t value) {
    onnx::AttributeProto* a = node->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(value);
  }
  static void AddAttribute(onnx::NodeProto* node, const std::string& name,
                           float value) {
    onnx::AttributeProto* a = node->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(value);
  }

  onnx::GraphProto* const graph_;
  std::string value_;
};

std::string LayerPrefix(int l, int num_layers) {
  return l + 1 == num_layers ? "output" : absl::StrCat("layer", l + 1);
}

void WriteUnfolded(const Model<float>& model, GraphWriter& writer) {
  const ModelConfig& config = model.config();
  for (int l = 0; l < model.num_layers(); ++l) {
    const LayerParameters<float>& p = model.layer(l);
    const std::string prefix = LayerPrefix(l, model.num_layers());
    writer.AddProduct(prefix, p.weight, p.has_bias() ? &p.bias : nullptr);
    if (l + 1 == model.num_layers()) break;
    if (config.normalization == Normalization::kPreActivation) {
      writer.AddBatchNorm(prefix, p, config);
    }
    writer.AddActivation(prefix, config.activation);
    if (config.normalization == Normalization::kPostActivation) {
      writer.AddBatchNorm(prefix, p, config);
    }
  }
}

void WriteFolded(const Model<float>& model, GraphWriter& writer) {
  const std::vector<FoldedLayer> layers = FoldBatchNorm(model);
  for (size_t l = 0; l < layers.size(); ++l) {
    const std::string prefix =
        LayerPrefix(static_cast<int>(l), static_cast<int>(layers.size()));
    writer.AddProduct(prefix, layers[l].weight, &layers[l].bias);
    writer.AddActivation(prefix, layers[l].activation);
  }
}

void SetFloatMatrixType(onnx::ValueInfoProto* value, const std::string& name,
                        int64_t features) {
  value->set_name(name);
  onnx::TypeProto::Tensor* tensor =
      value->mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(onnx::TensorProto::FLOAT);
  tensor->mutable_shape()->add_dim()->set_dim_param("N");
  tensor->mutable_shape()->add_dim()->set_dim_value(features);
}

// Bytes of the tensors the file will hold (an upper bound).
int64_t TensorBytes(const Model<float>& model) {
  int64_t values = 0;
  for (const LayerParameters<float>& p : model.layers()) {
    values += p.weight.size() + p.bias.size() + p.gamma.size() + p.beta.size() +
              p.running_mean.size() + p.running_var.size() +
              p.weight.rows();  // a folded bias
  }
  return values * static_cast<int64_t>(sizeof(float));
}

}  // namespace

absl::StatusOr<std::string> ExportOnnx(const Model<float>& model,
                                       const OnnxExportOptions& options) {
  // Protobuf messages are limited to 2 GiB; leave room for the graph.
  constexpr int64_t kMaxTensorBytes =
      std::numeric_limits<int32_t>::max() - (int64_t{64} << 20);
  if (TensorBytes(model) > kMaxTensorBytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the model's tensors take ", TensorBytes(model),
        " bytes; an ONNX file without external data holds at most ",
        kMaxTensorBytes));
  }
  const ModelConfig& config = model.config();
  onnx::ModelProto proto;
  proto.set_ir_version(kOnnxExportIrVersion);
  onnx::OperatorSetIdProto* opset = proto.add_opset_import();
  opset->set_domain("");
  opset->set_version(kOnnxExportOpset);
  proto.set_producer_name("bnmlp");
  proto.set_producer_version(ProjectVersion());
  proto.set_model_version(options.model_version);
  proto.set_doc_string(ExportDocString(config, options));
  for (const auto& [key, value] : ExportMetadata(config, options)) {
    onnx::StringStringEntryProto* entry = proto.add_metadata_props();
    entry->set_key(key);
    entry->set_value(value);
  }
  onnx::GraphProto* graph = proto.mutable_graph();
  graph->set_name(options.model_name.empty() ? "bnmlp" : options.model_name);
  SetFloatMatrixType(graph->add_input(), "x", model.input_size());
  SetFloatMatrixType(graph->add_output(), "y", model.output_size());
  GraphWriter writer(graph, "x");
  if (options.fold_batch_norm) {
    WriteFolded(model, writer);
  } else {
    WriteUnfolded(model, writer);
  }
  if (config.task == Task::kClassification) writer.AddSoftmax();
  writer.RenameOutput("y");
  std::string bytes;
  if (!proto.SerializeToString(&bytes)) {
    return absl::InternalError("the ONNX model did not serialize");
  }
  return bytes;
}

}  // namespace bnmlp
