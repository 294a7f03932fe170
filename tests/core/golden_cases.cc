#include "tests/core/golden_cases.h"

#include <fstream>
#include <stdexcept>

#include "absl/strings/str_cat.h"

namespace bnmlp::testing {

const nlohmann::json& GoldenFile() {
  static const nlohmann::json file = [] {
    const std::string path =
        absl::StrCat(BNMLP_SOURCE_DIR, "/tests/testdata/golden_bnmlp.json");
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open " + path);
    return nlohmann::json::parse(in);
  }();
  return file;
}

ModelConfig GoldenConfig(const nlohmann::json& c) {
  ModelConfig config;
  config.layer_sizes = c["layer_sizes"].get<std::vector<int64_t>>();
  const std::string task = c["task"];
  config.task =
      task == "regression" ? Task::kRegression : Task::kClassification;
  const std::string norm = c["normalization"];
  config.normalization =
      norm == "pre_activation"    ? Normalization::kPreActivation
      : norm == "post_activation" ? Normalization::kPostActivation
                                  : Normalization::kNone;
  const std::string act = c["activation"];
  config.activation = act == "relu"      ? Activation::kRelu
                      : act == "tanh"    ? Activation::kTanh
                      : act == "sigmoid" ? Activation::kSigmoid
                                         : Activation::kIdentity;
  const nlohmann::json& bn = GoldenFile()["batch_norm"];
  config.batch_norm_epsilon = bn["eps"];
  config.batch_norm_momentum = bn["momentum"];
  return config;
}

Vector<double> JsonVector(const nlohmann::json& v) {
  Vector<double> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out(i) = v[i].get<double>();
  return out;
}

RowMajorMatrix<double> JsonWeight(const nlohmann::json& w) {
  RowMajorMatrix<double> out(w.size(), w[0].size());
  for (size_t r = 0; r < w.size(); ++r) {
    for (size_t c = 0; c < w[r].size(); ++c) out(r, c) = w[r][c].get<double>();
  }
  return out;
}

Matrix<double> SamplesAsColumns(const nlohmann::json& rows) {
  Matrix<double> out(rows[0].size(), rows.size());
  for (size_t j = 0; j < rows.size(); ++j) {
    for (size_t i = 0; i < rows[j].size(); ++i) {
      out(i, j) = rows[j][i].get<double>();
    }
  }
  return out;
}

Model<double> GoldenModel(const nlohmann::json& c) {
  absl::StatusOr<Model<double>> model = Model<double>::Create(GoldenConfig(c));
  if (!model.ok()) throw std::runtime_error(model.status().ToString());
  const nlohmann::json& layers = c["layers"];
  for (size_t l = 0; l < layers.size(); ++l) {
    LayerParameters<double>& p = model->mutable_layer(static_cast<int>(l));
    const nlohmann::json& j = layers[l];
    p.weight = JsonWeight(j["weight"]);
    if (j.contains("bias")) p.bias = JsonVector(j["bias"]);
    if (j.contains("gamma")) p.gamma = JsonVector(j["gamma"]);
    if (j.contains("beta")) p.beta = JsonVector(j["beta"]);
  }
  return *std::move(model);
}

OptimizerOptions GoldenOptimizer(const nlohmann::json& section,
                                 OptimizerKind kind) {
  const nlohmann::json& hp = section["hyperparameters"];
  OptimizerOptions o;
  o.kind = kind;
  o.learning_rate = hp["lr"];
  o.weight_decay = hp["weight_decay"];
  if (kind == OptimizerKind::kSgd) {
    o.momentum = hp["momentum"];
    o.nesterov = hp["nesterov"];
  } else {
    o.adam_beta1 = hp["beta1"];
    o.adam_beta2 = hp["beta2"];
    o.adam_epsilon = hp["eps"];
  }
  return o;
}

std::string CaseName(const nlohmann::json& c) {
  return absl::StrCat(c["normalization"].get<std::string>(), "_",
                      c["activation"].get<std::string>(), "_",
                      c["task"].get<std::string>());
}

}  // namespace bnmlp::testing
