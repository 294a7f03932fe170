// Each normalization mode's block against its formula, written out with
// Eigen in double; the gradients are checked against finite differences in
// training_pass_test, through the same blocks.
#include "core/hidden_block.h"

#include <cmath>
#include <random>

#include "core/compute_pool.h"
#include "gtest/gtest.h"

namespace bnmlp {
namespace {

constexpr double kEps = 1e-3;

ModelConfig Config(Normalization n, Activation g) {
  ModelConfig c;
  c.layer_sizes = {3, 4, 2};
  c.normalization = n;
  c.activation = g;
  c.batch_norm_epsilon = kEps;
  c.batch_norm_momentum = 0.25;
  return c;
}

// Layer 0 of `config` with generic parameters and running statistics.
LayerParameters<double> Parameters(const ModelConfig& config) {
  LayerParameters<double> p = Model<double>::Create(config)->layer(0);
  if (p.has_bias()) p.bias << 0.1, -0.2, 0.3, -0.4;
  if (p.has_batch_norm()) {
    p.gamma << 1.5, 0.5, -1, 2;
    p.beta << 0.2, 0, -0.3, 1;
    p.running_mean << 0.5, -1, 0, 2;
    p.running_var << 4, 0.25, 1, 9;
  }
  return p;
}

Matrix<double> Apply(Activation g, const Matrix<double>& v) {
  switch (g) {
    case Activation::kRelu:
      return v.cwiseMax(0.0);
    case Activation::kTanh:
      return v.array().tanh().matrix();
    case Activation::kSigmoid:
      return (1 / (1 + (-v.array()).exp())).matrix();
    case Activation::kIdentity:
      return v;
  }
  return v;
}

// (v - mean) / sqrt(var + eps) per row, with the biased batch variance.
Matrix<double> BatchNormalize(const Matrix<double>& v) {
  const Vector<double> mean = v.rowwise().mean();
  const Matrix<double> centered = v.colwise() - mean;
  const Vector<double> var = centered.array().square().rowwise().mean();
  return (centered.array().colwise() / (var.array() + kEps).sqrt()).matrix();
}

// gamma .* v + beta per row.
Matrix<double> Affine(const LayerParameters<double>& p,
                      const Matrix<double>& v) {
  return ((v.array().colwise() * p.gamma.array()).colwise() + p.beta.array())
      .matrix();
}

using Mode = std::tuple<Normalization, Activation>;
class HiddenBlockTest : public ::testing::TestWithParam<Mode> {};

TEST_P(HiddenBlockTest, TrainingForwardAndEvalFormFollowTheFormulas) {
  const auto [n, g] = GetParam();
  const ModelConfig config = Config(n, g);
  const LayerParameters<double> p = Parameters(config);
  std::mt19937_64 rng(5);
  std::normal_distribution<double> normal;
  Matrix<double> x(3, 6);
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = normal(rng);

  std::unique_ptr<HiddenBlock<double>> block =
      HiddenBlock<double>::Create(config, 0);
  EXPECT_EQ(block->layout().outputs, 4);
  block->Reserve(6);
  ComputePool pool(1);
  block->Forward(p, ConstMatrixMap<double>(x.data(), 3, 6), pool);
  const Matrix<double> z = p.weight * x;
  Matrix<double> expected;
  Matrix<double> eval;  // the same layer in evaluation mode
  const Vector<double> s =
      p.has_batch_norm()
          ? (p.gamma.array() / (p.running_var.array() + kEps).sqrt()).matrix()
          : Vector<double>();
  const Vector<double> t =
      p.has_batch_norm()
          ? (p.beta.array() - p.running_mean.array() * s.array()).matrix()
          : Vector<double>();
  switch (n) {
    case Normalization::kPreActivation:
      expected = Apply(g, Affine(p, BatchNormalize(z)));
      eval = Apply(
          g,
          ((z.array().colwise() * s.array()).colwise() + t.array()).matrix());
      break;
    case Normalization::kPostActivation: {
      const Matrix<double> a = Apply(g, z.colwise() + p.bias);
      expected = Affine(p, BatchNormalize(a));
      eval = ((a.array().colwise() * s.array()).colwise() + t.array()).matrix();
      break;
    }
    case Normalization::kNone:
      expected = Apply(g, z.colwise() + p.bias);
      eval = expected;
      break;
  }
  EXPECT_TRUE(Matrix<double>(block->output()).isApprox(expected, 1e-12));

  const EvalAffine e = block->Eval(p);
  Matrix<double> y = z;
  if (e.in_scale.size() > 0) y = e.in_scale.asDiagonal() * y;
  if (e.in_shift.size() > 0) y.colwise() += e.in_shift;
  y = Apply(g, y);
  if (e.out_scale.size() > 0) y = e.out_scale.asDiagonal() * y;
  if (e.out_shift.size() > 0) y.colwise() += e.out_shift;
  EXPECT_TRUE(y.isApprox(eval, 1e-12));
}

TEST_P(HiddenBlockTest, RunningStatisticsMoveOnlyWithBatchNorm) {
  const auto [n, g] = GetParam();
  const ModelConfig config = Config(n, g);
  LayerParameters<double> p = Parameters(config);
  const LayerParameters<double> before = p;
  const Matrix<double> x = Matrix<double>::Random(3, 5);
  std::unique_ptr<HiddenBlock<double>> block =
      HiddenBlock<double>::Create(config, 0);
  block->Reserve(5);
  ComputePool pool(1);
  block->Forward(p, ConstMatrixMap<double>(x.data(), 3, 5), pool);
  block->UpdateRunningStatistics(0.25, &p);
  if (!p.has_batch_norm()) {
    EXPECT_EQ(p.running_mean.size(), 0);
    return;
  }
  // The batch statistics of what BatchNorm normalized: z (pre) or g(z + b).
  Matrix<double> v = p.weight * x;
  if (n == Normalization::kPostActivation) {
    v = Apply(g, v.colwise() + p.bias);
  }
  const Vector<double> mean = v.rowwise().mean();
  const Vector<double> unbiased =
      (v.colwise() - mean).array().square().rowwise().sum() / 4;
  EXPECT_TRUE(
      p.running_mean.isApprox(0.75 * before.running_mean + 0.25 * mean, 1e-12));
  EXPECT_TRUE(p.running_var.isApprox(
      0.75 * before.running_var + 0.25 * unbiased, 1e-12));
}

INSTANTIATE_TEST_SUITE_P(
    AllModes, HiddenBlockTest,
    ::testing::Combine(::testing::Values(Normalization::kPreActivation,
                                         Normalization::kPostActivation,
                                         Normalization::kNone),
                       ::testing::Values(Activation::kRelu, Activation::kTanh,
                                         Activation::kSigmoid,
                                         Activation::kIdentity)),
    [](const ::testing::TestParamInfo<Mode>& info) {
      return std::string(NormalizationName(std::get<0>(info.param))) + "_" +
             std::string(ActivationName(std::get<1>(info.param)));
    });

}  // namespace
}  // namespace bnmlp
