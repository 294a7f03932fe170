#include "core/model.h"

#include <cmath>

#include "gtest/gtest.h"

namespace bnmlp {
namespace {

ModelConfig Config(Normalization normalization, uint64_t seed = 3) {
  ModelConfig c;
  c.layer_sizes = {200, 300, 50, 10};
  c.normalization = normalization;
  c.seed = seed;
  return c;
}

TEST(ModelTest, LayersHaveTheShapesOfTorchModules) {
  const Model<float> m =
      *Model<float>::Create(Config(Normalization::kPreActivation));
  ASSERT_EQ(m.num_layers(), 3);
  EXPECT_EQ(m.layer(0).weight.rows(), 300);  // [out, in], like nn.Linear
  EXPECT_EQ(m.layer(0).weight.cols(), 200);
  // Pre-activation hidden layers: BatchNorm, no bias.
  EXPECT_FALSE(m.layer(0).has_bias());
  EXPECT_TRUE(m.layer(0).has_batch_norm());
  EXPECT_EQ(m.layer(1).running_var.size(), 50);
  // Output layer: bias, no BatchNorm.
  EXPECT_TRUE(m.layer(2).has_bias());
  EXPECT_FALSE(m.layer(2).has_batch_norm());
  EXPECT_EQ(m.parameter_count(),
            200 * 300 + 300 * 50 + 50 * 10 + 2 * (300 + 50) + 10);

  const Model<float> post =
      *Model<float>::Create(Config(Normalization::kPostActivation));
  EXPECT_TRUE(post.layer(0).has_bias());
  EXPECT_TRUE(post.layer(0).has_batch_norm());
  const Model<float> none = *Model<float>::Create(Config(Normalization::kNone));
  EXPECT_TRUE(none.layer(0).has_bias());
  EXPECT_FALSE(none.layer(0).has_batch_norm());
}

TEST(ModelTest, InitializesLikeKaimingNormalAndBatchNormDefaults) {
  const Model<double> m =
      *Model<double>::Create(Config(Normalization::kPreActivation));
  const RowMajorMatrix<double>& w = m.layer(0).weight;  // 60000 draws
  const double mean = w.mean();
  const double stddev = std::sqrt((w.array() - mean).square().mean());
  EXPECT_NEAR(mean, 0, 0.003);
  EXPECT_NEAR(stddev, std::sqrt(2.0 / 200), 0.002);
  EXPECT_TRUE(m.layer(0).gamma.isOnes());
  EXPECT_TRUE(m.layer(0).beta.isZero());
  EXPECT_TRUE(m.layer(0).running_mean.isZero());
  EXPECT_TRUE(m.layer(0).running_var.isOnes());
  EXPECT_TRUE(m.layer(2).bias.isZero());
}

TEST(ModelTest, SameSeedSameParametersOtherSeedOtherParameters) {
  const auto a =
      *Model<float>::Create(Config(Normalization::kPreActivation, 11));
  const auto b =
      *Model<float>::Create(Config(Normalization::kPreActivation, 11));
  const auto c =
      *Model<float>::Create(Config(Normalization::kPreActivation, 12));
  for (int l = 0; l < a.num_layers(); ++l) {
    EXPECT_EQ(a.layer(l).weight, b.layer(l).weight);
    EXPECT_NE(a.layer(l).weight, c.layer(l).weight);
  }
}

TEST(ModelTest, FloatAndDoubleModelsHoldTheSameInitialization) {
  const auto f = *Model<float>::Create(Config(Normalization::kPostActivation));
  const auto d = *Model<double>::Create(Config(Normalization::kPostActivation));
  EXPECT_EQ(f.layer(1).weight, d.Cast<float>().layer(1).weight);
  EXPECT_TRUE(
      f.Cast<double>().layer(1).weight.isApprox(d.layer(1).weight, 1e-7));
}

TEST(ModelTest, CreateRejectsAnInvalidConfig) {
  ModelConfig c;
  c.layer_sizes = {10};
  EXPECT_EQ(Model<float>::Create(c).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace bnmlp
