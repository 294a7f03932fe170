#include "tests/interchange/onnx_test_models.h"

#include <cstdlib>
#include <iostream>
#include <random>

#include "absl/strings/str_cat.h"
#include "core/predict.h"

namespace bnmlp::testing {
namespace {

template <typename Distribution>
void Fill(Eigen::Index size, float* data, Distribution& d,
          std::mt19937_64& rng) {
  for (Eigen::Index i = 0; i < size; ++i) data[i] = d(rng);
}

}  // namespace

ModelConfig MakeConfig(std::vector<int64_t> sizes, Task task,
                       Normalization normalization, Activation activation) {
  ModelConfig config;
  config.layer_sizes = std::move(sizes);
  config.task = task;
  config.normalization = normalization;
  config.activation = activation;
  config.seed = 7;
  return config;
}

Model<float> RandomizedModel(const ModelConfig& config, uint64_t seed) {
  absl::StatusOr<Model<float>> created = Model<float>::Create(config);
  if (!created.ok()) {
    std::cerr << "RandomizedModel: " << created.status() << "\n";
    std::abort();
  }
  Model<float> model = *std::move(created);
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> small(0.0f, 0.3f);
  std::uniform_real_distribution<float> gamma(0.5f, 1.5f);
  std::uniform_real_distribution<float> var(0.5f, 2.0f);
  for (int l = 0; l < model.num_layers(); ++l) {
    LayerParameters<float>& p = model.mutable_layer(l);
    Fill(p.bias.size(), p.bias.data(), small, rng);
    Fill(p.gamma.size(), p.gamma.data(), gamma, rng);
    Fill(p.beta.size(), p.beta.data(), small, rng);
    Fill(p.running_mean.size(), p.running_mean.data(), small, rng);
    Fill(p.running_var.size(), p.running_var.data(), var, rng);
  }
  return model;
}

Matrix<float> RandomInputs(int64_t features, int64_t samples, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  Matrix<float> x(features, samples);
  Fill(x.size(), x.data(), normal, rng);
  return x;
}

Matrix<float> PredictOrDie(const Model<float>& model, const Matrix<float>& x) {
  Matrix<float> outputs(model.output_size(), x.cols());
  MatrixMap<float> out(outputs.data(), outputs.rows(), outputs.cols());
  const absl::Status status =
      Predict(model, ConstMatrixMap<float>(x.data(), x.rows(), x.cols()), out);
  if (!status.ok()) {
    std::cerr << "PredictOrDie: " << status << "\n";
    std::abort();
  }
  return outputs;
}

float MaxAbsDiff(const Matrix<float>& a, const Matrix<float>& b) {
  if (a.rows() != b.rows() || a.cols() != b.cols()) return 1e30f;
  return (a - b).cwiseAbs().maxCoeff();
}

GraphBuilder::GraphBuilder(int64_t features, int64_t opset) {
  model_.set_ir_version(7);
  model_.set_producer_name("test");
  onnx::OperatorSetIdProto* import = model_.add_opset_import();
  import->set_domain("");
  import->set_version(opset);
  onnx::ValueInfoProto* input = graph().add_input();
  input->set_name("x");
  onnx::TypeProto::Tensor* type = input->mutable_type()->mutable_tensor_type();
  type->set_elem_type(onnx::TensorProto::FLOAT);
  type->mutable_shape()->add_dim()->set_dim_param("N");
  if (features >= 0) {
    type->mutable_shape()->add_dim()->set_dim_value(features);
  } else {
    type->mutable_shape()->add_dim()->set_dim_param("F");
  }
}

std::string GraphBuilder::Initializer(const std::string& name,
                                      std::vector<int64_t> dims,
                                      const std::vector<float>& values) {
  onnx::TensorProto* t = graph().add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims) t->add_dims(d);
  t->set_raw_data(values.data(), values.size() * sizeof(float));
  return name;
}

std::string GraphBuilder::Initializer(const std::string& name,
                                      const RowMajorMatrix<float>& m) {
  return Initializer(name, {m.rows(), m.cols()},
                     std::vector<float>(m.data(), m.data() + m.size()));
}

std::string GraphBuilder::Initializer(const std::string& name,
                                      const Vector<float>& v) {
  return Initializer(name, {v.size()},
                     std::vector<float>(v.data(), v.data() + v.size()));
}

onnx::NodeProto* GraphBuilder::Node(const std::string& op,
                                    const std::string& name,
                                    const std::vector<std::string>& inputs,
                                    int outputs) {
  onnx::NodeProto* node = graph().add_node();
  node->set_op_type(op);
  node->set_name(name);
  for (const std::string& input : inputs) node->add_input(input);
  for (int i = 0; i < outputs; ++i) {
    node->add_output(absl::StrCat(name, "_out", i));
  }
  if (outputs > 0) last_ = node->output(0);
  return node;
}

void GraphBuilder::SetInt(onnx::NodeProto* node, const std::string& name,
                          int64_t value) {
  onnx::AttributeProto* a = node->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(value);
}

void GraphBuilder::SetFloat(onnx::NodeProto* node, const std::string& name,
                            float value) {
  onnx::AttributeProto* a = node->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(value);
}

void GraphBuilder::SetInts(onnx::NodeProto* node, const std::string& name,
                           const std::vector<int64_t>& values) {
  onnx::AttributeProto* a = node->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t v : values) a->add_ints(v);
}

std::string GraphBuilder::Finish(const std::string& output) {
  onnx::ValueInfoProto* out = graph().add_output();
  out->set_name(output.empty() ? last_ : output);
  onnx::TypeProto::Tensor* type = out->mutable_type()->mutable_tensor_type();
  type->set_elem_type(onnx::TensorProto::FLOAT);
  type->mutable_shape()->add_dim()->set_dim_param("N");
  type->mutable_shape()->add_dim()->set_dim_param("outputs");
  return model_.SerializeAsString();
}

namespace {

void TorchActivation(GraphBuilder& g, Activation activation,
                     const std::string& index) {
  switch (activation) {
    case Activation::kRelu:
      g.Node("Relu", "/" + index + "/Relu", {g.last()});
      return;
    case Activation::kTanh:
      g.Node("Tanh", "/" + index + "/Tanh", {g.last()});
      return;
    case Activation::kSigmoid:
      g.Node("Sigmoid", "/" + index + "/Sigmoid", {g.last()});
      return;
    case Activation::kIdentity:
      return;
  }
}

// BatchNormalization of the current value, as module `module`.
void TorchBatchNorm(GraphBuilder& g, const LayerParameters<float>& p,
                    const ModelConfig& config, int module) {
  const std::string m = absl::StrCat(module);
  const std::string data = g.last();
  // PyTorch deduplicates equal initializers behind Identity nodes; this
  // graph always routes running_var through one.
  g.Node(
      "Identity", absl::StrCat("Identity_", module),
      {g.Initializer(absl::StrCat("onnx::Identity_", module), p.running_var)});
  const std::string var = g.last();
  onnx::NodeProto* bn =
      g.Node("BatchNormalization", "/" + m + "/BatchNormalization",
             {data, g.Initializer(m + ".weight", p.gamma),
              g.Initializer(m + ".bias", p.beta),
              g.Initializer(m + ".running_mean", p.running_mean), var});
  GraphBuilder::SetFloat(bn, "epsilon",
                         static_cast<float>(config.batch_norm_epsilon));
  GraphBuilder::SetFloat(bn, "momentum",
                         static_cast<float>(1.0 - config.batch_norm_momentum));
}

}  // namespace

std::string TorchStyleGraph(const Model<float>& model) {
  const ModelConfig& config = model.config();
  GraphBuilder g(model.input_size());
  int module = 0;
  for (int l = 0; l < model.num_layers(); ++l) {
    const LayerParameters<float>& p = model.layer(l);
    const std::string m = absl::StrCat(module);
    const std::string in = g.last();
    if (p.has_bias()) {
      onnx::NodeProto* gemm =
          g.Node("Gemm", "/" + m + "/Gemm",
                 {in, g.Initializer(m + ".weight", p.weight),
                  g.Initializer(m + ".bias", p.bias)});
      GraphBuilder::SetFloat(gemm, "alpha", 1.0f);
      GraphBuilder::SetFloat(gemm, "beta", 1.0f);
      GraphBuilder::SetInt(gemm, "transB", 1);
    } else {
      const RowMajorMatrix<float> transposed = p.weight.transpose();
      g.Node("MatMul", "/" + m + "/MatMul",
             {in, g.Initializer(absl::StrCat("onnx::MatMul_", 100 + l),
                                transposed)});
    }
    ++module;
    if (l + 1 == model.num_layers()) break;
    const bool pre = config.normalization == Normalization::kPreActivation;
    const bool post = config.normalization == Normalization::kPostActivation;
    if (pre) TorchBatchNorm(g, p, config, module++);
    TorchActivation(g, config.activation, absl::StrCat(module));
    if (config.activation != Activation::kIdentity) ++module;
    if (post) TorchBatchNorm(g, p, config, module++);
  }
  if (config.task == Task::kClassification) {
    onnx::NodeProto* softmax =
        g.Node("Softmax", absl::StrCat("/", module, "/Softmax"), {g.last()});
    GraphBuilder::SetInt(softmax, "axis", -1);
  }
  return g.Finish();
}

}  // namespace bnmlp::testing
