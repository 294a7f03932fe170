// Finite-difference gradient checks in double for every parameter and the
// input, for every normalization position, activation and task; and the
// training pass's input checks.
#include "core/training_pass.h"

#include <cmath>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bnmlp {
namespace {

using ::testing::HasSubstr;

Vector<double> RandomVector(Eigen::Index n, double mean, double stddev,
                            std::mt19937_64& rng) {
  std::normal_distribution<double> normal(mean, stddev);
  Vector<double> v(n);
  for (Eigen::Index i = 0; i < n; ++i) v(i) = normal(rng);
  return v;
}

// A model whose every parameter is generic (no gamma = 1, no zero biases),
// so each gradient path is exercised.
Model<double> RandomModel(const ModelConfig& config, std::mt19937_64& rng) {
  Model<double> model = *Model<double>::Create(config);
  for (int l = 0; l < model.num_layers(); ++l) {
    LayerParameters<double>& p = model.mutable_layer(l);
    if (p.has_bias()) p.bias = RandomVector(p.bias.size(), 0, 0.3, rng);
    if (p.has_batch_norm()) {
      p.gamma = RandomVector(p.gamma.size(), 1, 0.3, rng);
      p.beta = RandomVector(p.beta.size(), 0, 0.3, rng);
    }
  }
  return model;
}

struct Problem {
  Model<double> model;
  Matrix<double> x;
  std::vector<int32_t> labels;
  Matrix<double> targets;

  BatchTargets<double> Targets() const {
    BatchTargets<double> t;
    t.labels = labels;
    new (&t.targets)
        ConstMatrixMap<double>(targets.data(), targets.rows(), targets.cols());
    return t;
  }
  ConstMatrixMap<double> X() const { return {x.data(), x.rows(), x.cols()}; }
};

Problem MakeProblem(Normalization normalization, Activation activation,
                    Task task) {
  std::mt19937_64 rng(1234);
  ModelConfig config;
  config.task = task;
  config.normalization = normalization;
  config.activation = activation;
  // Widths change layer to layer so a missing transpose cannot hide.
  config.layer_sizes = {4, 5, 3, task == Task::kClassification ? 3 : 2};
  config.seed = 7;
  Problem p{RandomModel(config, rng), {}, {}, {}};
  const int n = 6;
  p.x = Matrix<double>(4, n);
  for (Eigen::Index j = 0; j < n; ++j) p.x.col(j) = RandomVector(4, 0, 1, rng);
  if (task == Task::kClassification) {
    for (int j = 0; j < n; ++j) p.labels.push_back(j % 3);
  } else {
    p.targets = Matrix<double>(2, n);
    for (Eigen::Index j = 0; j < n; ++j)
      p.targets.col(j) = RandomVector(2, 0, 1, rng);
  }
  return p;
}

double Loss(TrainingPass<double>& pass, const Model<double>& model,
            const Matrix<double>& x, const BatchTargets<double>& targets) {
  absl::StatusOr<BatchResult> r = pass.Run(
      model, ConstMatrixMap<double>(x.data(), x.rows(), x.cols()), targets);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? r->loss : NAN;
}

constexpr double kStep = 1e-6;
// Central differences in double are accurate to ~1e-9 here.
constexpr double kTolerance = 1e-6;

// Compares analytic[i] with the central difference of the loss in data[i].
void CheckTensor(double* data, const double* analytic, Eigen::Index size,
                 const std::function<double()>& loss, const std::string& what) {
  for (Eigen::Index i = 0; i < size; ++i) {
    const double saved = data[i];
    data[i] = saved + kStep;
    const double up = loss();
    data[i] = saved - kStep;
    const double down = loss();
    data[i] = saved;
    const double numeric = (up - down) / (2 * kStep);
    EXPECT_NEAR(analytic[i], numeric,
                kTolerance * std::max(1.0, std::abs(numeric)))
        << what << "[" << i << "]";
  }
}

using Combination = std::tuple<Normalization, Activation, Task>;

class GradientCheckTest : public ::testing::TestWithParam<Combination> {};

TEST_P(GradientCheckTest, EveryParameterAndTheInputMatchFiniteDifferences) {
  const auto [normalization, activation, task] = GetParam();
  Problem p = MakeProblem(normalization, activation, task);
  TrainingPass<double> pass(p.model.config());
  ASSERT_TRUE(pass.Run(p.model, p.X(), p.Targets(), true).ok());
  // Copies: the finite differences below run the pass again.
  const std::vector<LayerGradients<double>> grads = pass.gradients();
  const Matrix<double> grad_x = pass.input_gradient();

  TrainingPass<double> probe(p.model.config());
  const BatchTargets<double> targets = p.Targets();
  auto loss = [&] { return Loss(probe, p.model, p.x, targets); };
  for (int l = 0; l < p.model.num_layers(); ++l) {
    LayerParameters<double>& param = p.model.mutable_layer(l);
    const LayerGradients<double>& g = grads[l];
    const std::string at = absl::StrCat("layer ", l, " ");
    ASSERT_EQ(g.weight.size(), param.weight.size());
    CheckTensor(param.weight.data(), g.weight.data(), g.weight.size(), loss,
                at + "weight");
    ASSERT_EQ(g.bias.size(), param.bias.size());
    CheckTensor(param.bias.data(), g.bias.data(), g.bias.size(), loss,
                at + "bias");
    ASSERT_EQ(g.gamma.size(), param.gamma.size());
    CheckTensor(param.gamma.data(), g.gamma.data(), g.gamma.size(), loss,
                at + "gamma");
    ASSERT_EQ(g.beta.size(), param.beta.size());
    CheckTensor(param.beta.data(), g.beta.data(), g.beta.size(), loss,
                at + "beta");
  }
  CheckTensor(p.x.data(), grad_x.data(), grad_x.size(), loss, "x");
}

INSTANTIATE_TEST_SUITE_P(
    AllCombinations, GradientCheckTest,
    ::testing::Combine(
        ::testing::Values(Normalization::kPreActivation,
                          Normalization::kPostActivation, Normalization::kNone),
        ::testing::Values(Activation::kRelu, Activation::kTanh,
                          Activation::kSigmoid, Activation::kIdentity),
        ::testing::Values(Task::kClassification, Task::kRegression)),
    [](const ::testing::TestParamInfo<Combination>& info) {
      return absl::StrCat(NormalizationName(std::get<0>(info.param)), "_",
                          ActivationName(std::get<1>(info.param)), "_",
                          TaskName(std::get<2>(info.param)));
    });

TEST(TrainingPassTest, RejectsABatchOfOneSample) {
  Problem p = MakeProblem(Normalization::kPreActivation, Activation::kRelu,
                          Task::kClassification);
  TrainingPass<double> pass(p.model.config());
  BatchTargets<double> one;
  one.labels = absl::MakeConstSpan(p.labels).subspan(0, 1);
  absl::StatusOr<BatchResult> r =
      pass.Run(p.model, ConstMatrixMap<double>(p.x.data(), 4, 1), one);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("at least 2 samples"));
}

// Label values are ValidateTrainInputs' job (once per dataset, see
// trainer_test); the pass checks only shapes.
TEST(TrainingPassTest, RejectsShapesThatDisagreeWithTheModel) {
  Problem p = MakeProblem(Normalization::kPreActivation, Activation::kRelu,
                          Task::kClassification);
  TrainingPass<double> pass(p.model.config());
  BatchTargets<double> targets;
  targets.labels = absl::MakeConstSpan(p.labels).subspan(0, 5);
  absl::StatusOr<BatchResult> r = pass.Run(p.model, p.X(), targets);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("labels has 5 entries"));

  const Matrix<double> narrow = p.x.topRows(3);
  r = pass.Run(p.model, ConstMatrixMap<double>(narrow.data(), 3, 6),
               p.Targets());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("the model takes 4"));

  Problem reg = MakeProblem(Normalization::kPreActivation, Activation::kRelu,
                            Task::kRegression);
  TrainingPass<double> regression(reg.model.config());
  BatchTargets<double> narrow_targets = reg.Targets();
  new (&narrow_targets.targets)
      ConstMatrixMap<double>(reg.targets.data(), 2, 5);
  r = regression.Run(reg.model, reg.X(), narrow_targets);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("targets must be 2 x 6"));
}

TEST(TrainingPassTest,
     LeavesTheModelUntouchedUntilRunningStatisticsAreApplied) {
  Problem p = MakeProblem(Normalization::kPreActivation, Activation::kRelu,
                          Task::kClassification);
  const Model<double> before = p.model;
  TrainingPass<double> pass(p.model.config());
  ASSERT_TRUE(pass.Run(p.model, p.X(), p.Targets()).ok());
  for (int l = 0; l < p.model.num_layers(); ++l) {
    EXPECT_EQ(p.model.layer(l).weight, before.layer(l).weight);
    EXPECT_EQ(p.model.layer(l).running_mean, before.layer(l).running_mean);
  }
  pass.UpdateRunningStatistics(&p.model);
  // running_mean = 0.9 * 0 + 0.1 * batch mean: no longer all zero.
  EXPECT_GT(p.model.layer(0).running_mean.cwiseAbs().maxCoeff(), 0);
}

TEST(TrainingPassTest, SmallerBatchesReuseTheWorkspace) {
  Problem p = MakeProblem(Normalization::kPostActivation, Activation::kTanh,
                          Task::kClassification);
  TrainingPass<double> pass(p.model.config());
  ASSERT_TRUE(pass.Run(p.model, p.X(), p.Targets()).ok());
  // The first 4 samples alone, through the grown workspace, must equal a
  // fresh pass on the same 4 samples.
  BatchTargets<double> four;
  four.labels = absl::MakeConstSpan(p.labels).subspan(0, 4);
  ConstMatrixMap<double> x4(p.x.data(), 4, 4);
  ASSERT_TRUE(pass.Run(p.model, x4, four).ok());
  TrainingPass<double> fresh(p.model.config());
  ASSERT_TRUE(fresh.Run(p.model, x4, four).ok());
  EXPECT_EQ(Matrix<double>(pass.outputs()), Matrix<double>(fresh.outputs()));
  EXPECT_EQ(pass.gradients()[0].weight, fresh.gradients()[0].weight);
}

// The pass holds the pool it was given and never looks up the default one.
TEST(TrainingPassTest, RunsItsProductsOnThePoolItWasGiven) {
  ModelConfig config;
  config.layer_sizes = {64, 256, 10};
  const Model<float> model = *Model<float>::Create(config);
  const Matrix<float> x = Matrix<float>::Random(64, 128);
  std::vector<int32_t> labels(128, 3);
  BatchTargets<float> targets;
  targets.labels = labels;
  ComputePool pool(2);
  ComputePool& default_pool = ComputePool::Default();
  const int64_t default_calls = default_pool.parallel_for_calls();
  TrainingPass<float> pass(config, pool);
  ASSERT_TRUE(
      pass.Run(model, ConstMatrixMap<float>(x.data(), 64, 128), targets).ok());
  EXPECT_GT(pool.parallel_for_calls(), 0);
  EXPECT_EQ(default_pool.parallel_for_calls(), default_calls);
}

}  // namespace
}  // namespace bnmlp
