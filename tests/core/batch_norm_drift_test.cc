// BatchNorm's float running statistics drift no further from a double run
// than PyTorch float32's do from PyTorch float64 on the same run.
//
// The run (tests/testdata/bn_drift_reference.json, made by
// tests/testdata/make_bn_drift_reference.py, whose docstring, also the
// file's "description", gives the details and the measurements behind the
// choices): scikit-learn's digits (tests/testdata/digits.csv, 1,797 samples
// x 64 features = pixel / 16), a 64-64-32-10 network with BatchNorm before
// tanh, from committed initial parameters (exact in float), 300 full-batch
// SGD steps (lr 0.1, momentum 0.9), running statistics updated every step.
// The engine runs it in double and in float; PyTorch ran it in float64 and
// float32 (the float32 figures: the better of 1 and 2 torch threads).
//
// Metrics, over all 96 BatchNorm features after the run (f the float run,
// d the double run):
//   running_var:  rms of |var_f - var_d| / var_d
//   running_mean: rms of |mean_f - mean_d| / sqrt(var_d)
// Each must be at most torch float32's figure, with no margin (measured
// over 6 seeds of this run: ours is 0.71-0.82x torch's running_var figure
// and 0.48-0.84x its running_mean one; the float-summing BatchNorm this
// replaced was 0.89-1.01x and 0.86-1.26x, and fails on the committed seed).
// The maxima over features are printed too but not asserted: a maximum is
// one feature's luck (torch's own moved by up to 1.7x between 1 and 2
// threads).
#include <cmath>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/model.h"
#include "core/optimizer.h"
#include "core/training_pass.h"
#include "gtest/gtest.h"
#include "tests/core/golden_cases.h"

namespace bnmlp {
namespace {

using nlohmann::json;
using testing::JsonVector;
using testing::JsonWeight;

std::string TestdataPath(const std::string& name) {
  return absl::StrCat(BNMLP_SOURCE_DIR, "/tests/testdata/", name);
}

const json& Reference() {
  static const json reference = [] {
    const std::string path = TestdataPath("bn_drift_reference.json");
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open " + path);
    return json::parse(in);
  }();
  return reference;
}

// digits.csv: a header, then "label,pixel0,...,pixel63" with integer pixels
// 0..16; features are pixel / 16 (exact in float and double).
struct Digits {
  Matrix<double> x;  // 64 x N, samples as columns
  std::vector<int32_t> labels;
};

Digits ReadDigits() {
  const json& data = Reference()["data"];
  const std::string path = TestdataPath(data["file"].get<std::string>());
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  const int64_t features = data["features"];
  const double scale = data["feature_scale"];
  std::vector<std::vector<int>> rows;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::vector<int> row;
    for (absl::string_view field : absl::StrSplit(line, ',')) {
      int v;
      if (!absl::SimpleAtoi(field, &v)) {
        throw std::runtime_error(
            absl::StrCat(path, ": not an integer: '", field, "'"));
      }
      row.push_back(v);
    }
    if (static_cast<int64_t>(row.size()) != features + 1) {
      throw std::runtime_error(absl::StrCat(path, ": a row has ", row.size(),
                                            " fields, expected ",
                                            features + 1));
    }
    rows.push_back(std::move(row));
  }
  Digits d{Matrix<double>(features, static_cast<Eigen::Index>(rows.size())),
           std::vector<int32_t>(rows.size())};
  for (size_t j = 0; j < rows.size(); ++j) {
    d.labels[j] = rows[j][0];
    for (int64_t i = 0; i < features; ++i) {
      d.x(i, static_cast<Eigen::Index>(j)) = rows[j][i + 1] * scale;
    }
  }
  return d;
}

ModelConfig RunConfig() {
  const json& run = Reference()["run"];
  // The reference script's network is always classification with SGD.
  EXPECT_EQ(run["task"], "classification");
  EXPECT_EQ(run["optimizer"], "sgd");
  ModelConfig config;
  config.layer_sizes = run["layer_sizes"].get<std::vector<int64_t>>();
  const std::string norm = run["normalization"], act = run["activation"];
  config.normalization =
      norm == "pre_activation"    ? Normalization::kPreActivation
      : norm == "post_activation" ? Normalization::kPostActivation
                                  : Normalization::kNone;
  config.activation = act == "relu"      ? Activation::kRelu
                      : act == "tanh"    ? Activation::kTanh
                      : act == "sigmoid" ? Activation::kSigmoid
                                         : Activation::kIdentity;
  config.task = Task::kClassification;
  config.batch_norm_epsilon = Reference()["batch_norm"]["eps"];
  config.batch_norm_momentum = Reference()["batch_norm"]["momentum"];
  return config;
}

Model<double> InitialModel() {
  absl::StatusOr<Model<double>> model = Model<double>::Create(RunConfig());
  if (!model.ok()) throw std::runtime_error(model.status().ToString());
  const json& layers = Reference()["initial_layers"];
  for (size_t l = 0; l < layers.size(); ++l) {
    LayerParameters<double>& p = model->mutable_layer(static_cast<int>(l));
    const json& j = layers[l];
    p.weight = JsonWeight(j["weight"]);
    if (j.contains("bias")) p.bias = JsonVector(j["bias"]);
    if (j.contains("gamma")) p.gamma = JsonVector(j["gamma"]);
    if (j.contains("beta")) p.beta = JsonVector(j["beta"]);
  }
  return *std::move(model);
}

// The engine's training step, as the trainer runs it, `steps` times on the
// whole set; returns the model with its running statistics.
template <typename T>
Model<T> TrainFullBatch(const Digits& digits) {
  const json& run = Reference()["run"];
  Model<T> model = InitialModel().Cast<T>();
  const Matrix<T> x = digits.x.cast<T>();
  BatchTargets<T> targets;
  targets.labels = digits.labels;
  OptimizerOptions options;
  options.kind = OptimizerKind::kSgd;
  options.learning_rate = run["lr"];
  options.momentum = run["momentum"];
  TrainingPass<T> pass(model.config());
  Optimizer<T> optimizer(options, model);
  const int steps = run["steps"];
  for (int s = 0; s < steps; ++s) {
    absl::StatusOr<BatchResult> result = pass.Run(
        model, ConstMatrixMap<T>(x.data(), x.rows(), x.cols()), targets);
    if (!result.ok()) throw std::runtime_error(result.status().ToString());
    pass.UpdateRunningStatistics(&model);
    optimizer.Step(pass.gradients(), &model);
  }
  return model;
}

struct Drift {
  double running_var_max_rel_error = 0;
  double running_var_rms_rel_error = 0;
  double running_mean_max_error_in_std = 0;
  double running_mean_rms_error_in_std = 0;
};

std::ostream& operator<<(std::ostream& os, const Drift& d) {
  return os << "running_var rel error max " << d.running_var_max_rel_error
            << " rms " << d.running_var_rms_rel_error
            << "; running_mean error / std max "
            << d.running_mean_max_error_in_std << " rms "
            << d.running_mean_rms_error_in_std;
}

Drift FromJson(const json& j) {
  return {j["running_var_max_rel_error"], j["running_var_rms_rel_error"],
          j["running_mean_max_error_in_std"],
          j["running_mean_rms_error_in_std"]};
}

// The metrics of the header comment; `running_var` and `running_mean` give
// the reference run's statistics of hidden layer l.
template <typename T, typename Mean, typename Var>
Drift Measure(const Model<T>& model, const Mean& running_mean,
              const Var& running_var) {
  Drift d;
  double var_sq = 0, mean_sq = 0;
  int64_t count = 0;
  for (int l = 0; l + 1 < model.num_layers(); ++l) {
    const LayerParameters<T>& p = model.layer(l);
    const Vector<double> mean = running_mean(l), var = running_var(l);
    EXPECT_EQ(p.running_var.size(), var.size()) << "layer " << l;
    if (p.running_var.size() != var.size()) continue;
    for (Eigen::Index i = 0; i < var.size(); ++i) {
      const double v =
          std::abs(static_cast<double>(p.running_var(i)) - var(i)) / var(i);
      const double m =
          std::abs(static_cast<double>(p.running_mean(i)) - mean(i)) /
          std::sqrt(var(i));
      d.running_var_max_rel_error = std::max(d.running_var_max_rel_error, v);
      d.running_mean_max_error_in_std =
          std::max(d.running_mean_max_error_in_std, m);
      var_sq += v * v;
      mean_sq += m * m;
      ++count;
    }
  }
  d.running_var_rms_rel_error = std::sqrt(var_sq / count);
  d.running_mean_rms_error_in_std = std::sqrt(mean_sq / count);
  return d;
}

// One test: the two runs take seconds, and ctest runs each TEST in its own
// process.
TEST(BatchNormDriftTest, FloatDriftsNoFurtherThanTorchFloat32) {
  const Digits digits = ReadDigits();
  ASSERT_EQ(digits.x.cols(), Reference()["data"]["samples"].get<int64_t>());
  const Model<double> double_run = TrainFullBatch<double>(digits);

  // First, the double run is the run torch made: it ends where torch float64
  // ends, up to double rounding (measured: 1e-15). Otherwise "float vs
  // double" below could pass on a run that is not the reference's.
  const json& buffers = Reference()["torch_float64"]["buffers"];
  const Drift reference = Measure(
      double_run, [&](int l) { return JsonVector(buffers[l]["running_mean"]); },
      [&](int l) { return JsonVector(buffers[l]["running_var"]); });
  std::cout << "double vs torch float64: " << reference << "\n";
  ASSERT_LE(reference.running_var_max_rel_error, 1e-9);
  ASSERT_LE(reference.running_mean_max_error_in_std, 1e-9);

  const Model<float> float_run = TrainFullBatch<float>(digits);
  const Drift d = Measure(
      float_run,
      [&](int l) -> Vector<double> { return double_run.layer(l).running_mean; },
      [&](int l) -> Vector<double> { return double_run.layer(l).running_var; });
  const Drift torch = FromJson(Reference()["torch_float32_drift"]);
  std::cout << "float vs double:         " << d << "\n"
            << "torch float32 vs 64:     " << torch << "\n";
  EXPECT_LE(d.running_var_rms_rel_error, torch.running_var_rms_rel_error);
  EXPECT_LE(d.running_mean_rms_error_in_std,
            torch.running_mean_rms_error_in_std);
}

}  // namespace
}  // namespace bnmlp
