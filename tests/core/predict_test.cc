#include "core/predict.h"

#include "core/training_pass.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/core/test_data.h"

namespace bnmlp {
namespace {

using ::testing::HasSubstr;

// A model whose running statistics have moved away from 0 / 1.
Model<float> TrainedModel(Normalization normalization,
                          const testing::Blobs& data) {
  ModelConfig c;
  c.layer_sizes = {6, 16, 8, 3};
  c.normalization = normalization;
  c.seed = 1;
  Model<float> model = *Model<float>::Create(c);
  TrainingPass<float> pass(c);
  const Dataset<float> d = data.View();
  BatchTargets<float> t;
  t.labels = d.labels;
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(pass.Run(model, d.x, t).ok());
    pass.UpdateRunningStatistics(&model);
  }
  return model;
}

Matrix<float> PredictAll(const Model<float>& model, const Matrix<float>& x) {
  Matrix<float> out(model.output_size(), x.cols());
  MatrixMap<float> map(out.data(), out.rows(), out.cols());
  EXPECT_TRUE(
      Predict(model, ConstMatrixMap<float>(x.data(), x.rows(), x.cols()), map)
          .ok());
  return out;
}

TEST(PredictTest, ABatchOfOneGivesTheRunningStatisticsAnswer) {
  const testing::Blobs data = testing::MakeBlobs(40, 6, 3, 9);
  for (Normalization n :
       {Normalization::kPreActivation, Normalization::kPostActivation}) {
    const Model<float> model = TrainedModel(n, data);
    ASSERT_GT((model.layer(0).running_var.array() - 1).abs().maxCoeff(), 0.01);
    const Matrix<float> batch = PredictAll(model, data.x);
    for (int j : {0, 7, 39}) {
      const Matrix<float> one = PredictAll(model, data.x.col(j));
      // Eval mode is per sample: the same answer alone or in a batch.
      EXPECT_TRUE(one.col(0).isApprox(batch.col(j), 1e-5f)) << "sample " << j;
      // And not the degenerate "normalize one sample to beta" answer: the
      // probabilities differ from sample to sample.
    }
    EXPECT_GT((batch.col(0) - batch.col(1)).cwiseAbs().maxCoeff(), 1e-3f);
    // Probabilities: each column sums to one.
    EXPECT_TRUE(batch.colwise().sum().isOnes(1e-5f));
  }
}

TEST(PredictTest, MatchesAHandComputedEvalForward) {
  ModelConfig c;
  c.layer_sizes = {2, 2, 2};
  c.batch_norm_epsilon = 1e-5;
  Model<double> m = *Model<double>::Create(c);
  LayerParameters<double>& h = m.mutable_layer(0);
  h.weight << 1, 2, -1, 0.5;
  h.gamma << 2, 1;
  h.beta << 0.5, -1;
  h.running_mean << 1, 0;
  h.running_var << 4, 1;
  LayerParameters<double>& o = m.mutable_layer(1);
  o.weight << 1, 0, 0, 1;
  o.bias << 0, 0.25;
  Matrix<double> x(2, 1);
  x << 1, 1;  // z = (3, -0.5)
  Matrix<double> logits(2, 1);
  MatrixMap<double> map(logits.data(), 2, 1);
  ASSERT_TRUE(
      PredictLogits(m, ConstMatrixMap<double>(x.data(), 2, 1), map).ok());
  const double a0 = std::max(0.0, 2 * (3 - 1) / std::sqrt(4 + 1e-5) + 0.5);
  const double a1 = std::max(0.0, 1 * (-0.5 - 0) / std::sqrt(1 + 1e-5) - 1);
  EXPECT_NEAR(logits(0, 0), a0, 1e-12);
  EXPECT_NEAR(logits(1, 0), a1 + 0.25, 1e-12);
}

TEST(PredictTest, RejectsShapesThatDisagreeWithTheModel) {
  const testing::Blobs data = testing::MakeBlobs(4, 6, 3, 9);
  const Model<float> model = TrainedModel(Normalization::kPreActivation, data);
  Matrix<float> out(3, 4);
  MatrixMap<float> map(out.data(), 3, 4);
  const absl::Status s =
      Predict(model, ConstMatrixMap<float>(data.x.data(), 5, 4), map);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("the model takes 6"));
  MatrixMap<float> wrong(out.data(), 2, 4);
  EXPECT_EQ(
      Predict(model, ConstMatrixMap<float>(data.x.data(), 6, 4), wrong).code(),
      absl::StatusCode::kInvalidArgument);
}

TEST(ArgmaxPerColumnTest, PicksTheFirstLargest) {
  Matrix<float> p(3, 3);
  p << 0.1f, 0.5f, 0.2f,  //
      0.7f, 0.5f, 0.2f,   //
      0.2f, 0.0f, 0.6f;
  std::vector<int32_t> classes(3);
  ArgmaxPerColumn(ConstMatrixMap<float>(p.data(), 3, 3),
                  absl::MakeSpan(classes));
  EXPECT_EQ(classes, (std::vector<int32_t>{1, 0, 2}));
}

}  // namespace
}  // namespace bnmlp
