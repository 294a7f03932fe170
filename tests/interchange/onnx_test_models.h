// Models, inputs and hand-made ONNX graphs for the interchange tests.
#ifndef BNMLP_TESTS_INTERCHANGE_ONNX_TEST_MODELS_H_
#define BNMLP_TESTS_INTERCHANGE_ONNX_TEST_MODELS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "core/matrix.h"
#include "core/model.h"
#include "core/model_config.h"
#include "onnx/onnx_pb.h"

namespace bnmlp::testing {

ModelConfig MakeConfig(std::vector<int64_t> sizes, Task task,
                       Normalization normalization, Activation activation);

// Model::Create(config) with every parameter and running statistic drawn
// at random from `seed` (gamma near 1, variances in [0.5, 2], ...), so that
// no BatchNorm is the identity. Aborts if the config is invalid.
Model<float> RandomizedModel(const ModelConfig& config, uint64_t seed);

// (features x samples) standard normal inputs.
Matrix<float> RandomInputs(int64_t features, int64_t samples, uint64_t seed);

// Predict's outputs (outputs x samples); aborts on error.
Matrix<float> PredictOrDie(const Model<float>& model, const Matrix<float>& x);

float MaxAbsDiff(const Matrix<float>& a, const Matrix<float>& b);

// Every combination the engine supports.
inline constexpr Task kTasks[] = {Task::kClassification, Task::kRegression};
inline constexpr Normalization kNormalizations[] = {
    Normalization::kPreActivation, Normalization::kPostActivation,
    Normalization::kNone};
inline constexpr Activation kActivations[] = {
    Activation::kRelu, Activation::kTanh, Activation::kSigmoid,
    Activation::kIdentity};

// Builds ONNX models node by node, as an exporter would.
class GraphBuilder {
 public:
  // Input "x" float [N, features] (features -1: symbolic), default opset
  // `opset`, IR version 7.
  explicit GraphBuilder(int64_t features, int64_t opset = 13);

  // Adds an initializer and returns its name.
  std::string Initializer(const std::string& name, std::vector<int64_t> dims,
                          const std::vector<float>& values);
  std::string Initializer(const std::string& name,
                          const RowMajorMatrix<float>& matrix);
  std::string Initializer(const std::string& name, const Vector<float>& v);

  // Adds node `name` of type `op` reading `inputs`, with `outputs` outputs
  // named "<name>_out<i>"; the first becomes last().
  onnx::NodeProto* Node(const std::string& op, const std::string& name,
                        const std::vector<std::string>& inputs,
                        int outputs = 1);
  static void SetInt(onnx::NodeProto* node, const std::string& name,
                     int64_t value);
  static void SetFloat(onnx::NodeProto* node, const std::string& name,
                       float value);
  static void SetInts(onnx::NodeProto* node, const std::string& name,
                      const std::vector<int64_t>& values);

  const std::string& last() const { return last_; }
  onnx::ModelProto& model() { return model_; }
  onnx::GraphProto& graph() { return *model_.mutable_graph(); }

  // Declares `output` (default: last()) the graph output, float [N, ?],
  // and returns the serialized model.
  std::string Finish(const std::string& output = "");

 private:
  onnx::ModelProto model_;
  std::string last_ = "x";
};

// The graph torch.onnx.export (PyTorch 1.13, opset 13, constant folding)
// writes for the nn.Sequential equivalent to `model`: Linear without bias
// as MatMul with a pre-transposed weight, with bias as Gemm(transB=1);
// BatchNorm1d's running statistics as initializers (or as Identity aliases
// of equal initializers, which PyTorch deduplicates); Softmax(axis=-1) for
// classification.
std::string TorchStyleGraph(const Model<float>& model);

}  // namespace bnmlp::testing

#endif  // BNMLP_TESTS_INTERCHANGE_ONNX_TEST_MODELS_H_
