#include "interchange/batch_norm_folding.h"

#include "absl/strings/str_cat.h"
#include "core/activation.h"
#include "gtest/gtest.h"
#include "tests/interchange/onnx_test_models.h"

namespace bnmlp {
namespace {

using ::bnmlp::testing::MakeConfig;
using ::bnmlp::testing::MaxAbsDiff;
using ::bnmlp::testing::PredictOrDie;
using ::bnmlp::testing::RandomInputs;
using ::bnmlp::testing::RandomizedModel;

Matrix<float> Activate(Activation a, const Matrix<float>& z) {
  switch (a) {
    case Activation::kRelu:
      return z.cwiseMax(0.0f);
    case Activation::kTanh:
      return z.array().tanh();
    case Activation::kSigmoid:
      return (1.0f + (-z.array()).exp()).inverse();
    case Activation::kIdentity:
      return z;
  }
  return z;
}

// The folded layers' forward pass, g(W x + b) layer by layer (logits).
Matrix<float> FoldedForward(const std::vector<FoldedLayer>& layers,
                            const Matrix<float>& x) {
  Matrix<float> a = x;
  for (const FoldedLayer& layer : layers) {
    a = Activate(layer.activation, (layer.weight * a).colwise() + layer.bias);
  }
  return a;
}

TEST(FoldBatchNormTest, FoldedLayersComputeThePrediction) {
  for (Normalization norm : testing::kNormalizations) {
    for (Activation act : testing::kActivations) {
      const ModelConfig config =
          MakeConfig({5, 7, 6, 4}, Task::kRegression, norm, act);
      const Model<float> model = RandomizedModel(config, 11);
      const std::vector<FoldedLayer> folded = FoldBatchNorm(model);
      ASSERT_EQ(folded.size(), 3u);
      EXPECT_EQ(folded[0].activation, act);
      EXPECT_EQ(folded[2].activation, Activation::kIdentity);
      const Matrix<float> x = RandomInputs(5, 20, 4);
      EXPECT_LE(MaxAbsDiff(FoldedForward(folded, x), PredictOrDie(model, x)),
                1e-5)
          << NormalizationName(norm) << "/" << ActivationName(act);
    }
  }
}

TEST(FoldBatchNormTest, LayersWithoutBatchNormAreCopied) {
  const Model<float> model =
      RandomizedModel(MakeConfig({3, 4, 2}, Task::kClassification,
                                 Normalization::kNone, Activation::kRelu),
                      2);
  const std::vector<FoldedLayer> folded = FoldBatchNorm(model);
  for (int l = 0; l < 2; ++l) {
    EXPECT_EQ(folded[l].weight, model.layer(l).weight);
    EXPECT_EQ(folded[l].bias, model.layer(l).bias);
  }
}

TEST(FoldBatchNormTest, PostActivationFoldsIntoTheNextProduct) {
  const Model<float> model = RandomizedModel(
      MakeConfig({3, 4, 2}, Task::kRegression, Normalization::kPostActivation,
                 Activation::kTanh),
      3);
  const std::vector<FoldedLayer> folded = FoldBatchNorm(model);
  // The hidden layer keeps its own product; the output's changes.
  EXPECT_EQ(folded[0].weight, model.layer(0).weight);
  EXPECT_GT((folded[1].weight - model.layer(1).weight).cwiseAbs().maxCoeff(),
            1e-3f);
}

}  // namespace
}  // namespace bnmlp
