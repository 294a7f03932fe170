#include "core/evaluate.h"

#include <cmath>

#include "core/inference_model.h"
#include "core/predict.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/core/test_data.h"
#include "tests/core/validated_train.h"

namespace bnmlp {
namespace {

using ::testing::HasSubstr;

Model<float> TrainedModel(const testing::Blobs& data) {
  ModelConfig c;
  c.layer_sizes = {5, 8, 3};
  Model<float> model = *Model<float>::Create(c);
  TrainOptions o;
  o.epochs = 1;
  o.batch_size = 50;
  EXPECT_TRUE(testing::ValidateAndTrain(&model, data.View(), nullptr, o).ok());
  return model;
}

TEST(EvaluateTest, AgreesWithPredictOverChunks) {
  // 2500 samples: three chunks of Evaluate's 1024, the last partial.
  const testing::Blobs data = testing::MakeBlobs(2500, 5, 3, 4);
  const Model<float> model = TrainedModel(data);

  absl::StatusOr<Evaluation> eval = Evaluate(model, data.View());
  ASSERT_TRUE(eval.ok());
  // The same folded model, in one Predict over all samples.
  const InferenceModel<float> folded = InferenceModel<float>::FromModel(model);
  const ConstMatrixMap<float> x(data.x.data(), 5, 2500);
  Matrix<float> p(3, 2500);
  PredictWorkspace<float> workspace;
  ASSERT_TRUE(Predict(folded, *ValidatePredictInput(folded, x),
                      MatrixMap<float>(p.data(), 3, 2500), workspace)
                  .ok());
  // And the unfolded reference, for the loss.
  Matrix<float> reference(3, 2500);
  ASSERT_TRUE(
      Predict(model, x, MatrixMap<float>(reference.data(), 3, 2500)).ok());
  int64_t correct = 0;
  double loss = 0;
  for (int j = 0; j < 2500; ++j) {
    Eigen::Index best;
    p.col(j).maxCoeff(&best);
    correct += best == data.labels[j];
    loss -= std::log(static_cast<double>(reference(data.labels[j], j)));
  }
  EXPECT_EQ(eval->samples, 2500);
  EXPECT_DOUBLE_EQ(eval->accuracy, correct / 2500.0);
  EXPECT_NEAR(eval->loss, loss / 2500, 1e-5);
  EXPECT_GT(eval->accuracy, 0.5);
}

TEST(EvaluateTest, RejectsInvalidData) {
  const testing::Blobs data = testing::MakeBlobs(10, 5, 3, 4);
  ModelConfig c;
  c.layer_sizes = {4, 3};
  const Model<float> model = *Model<float>::Create(c);
  const absl::Status s = Evaluate(model, data.View()).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("x has 5 features per sample"));
}

TEST(EvaluateTest, ValidatedDataOnlyForTheShapeItWasValidatedFor) {
  const testing::Blobs data = testing::MakeBlobs(10, 5, 3, 4);
  const Model<float> model = TrainedModel(data);
  ModelConfig four_classes = model.config();
  four_classes.layer_sizes.back() = 4;
  const ValidatedDataset<float> validated =
      *ValidateDataset(four_classes, data.View());
  PredictWorkspace<float> workspace;
  const absl::Status s =
      Evaluate(InferenceModel<float>::FromModel(model), validated, workspace)
          .status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("validated for a model of another"));
}

TEST(EvaluateTest, RegressionIsTheMeanSquaredError) {
  ModelConfig c;
  c.layer_sizes = {2, 4, 1};
  c.task = Task::kRegression;
  c.normalization = Normalization::kPostActivation;
  const Model<double> model = *Model<double>::Create(c);
  Matrix<double> x(2, 3), y(1, 3);
  x << 1, -2, 0.5, 3, 0, -1;
  y << 0.5, -1, 2;
  Dataset<double> d;
  new (&d.x) ConstMatrixMap<double>(x.data(), 2, 3);
  new (&d.targets) ConstMatrixMap<double>(y.data(), 1, 3);
  Matrix<double> out(1, 3);
  ASSERT_TRUE(Predict(model, d.x, MatrixMap<double>(out.data(), 1, 3)).ok());
  absl::StatusOr<Evaluation> eval = Evaluate(model, d);
  ASSERT_TRUE(eval.ok()) << eval.status();
  EXPECT_NEAR(eval->loss, (out - y).squaredNorm() / 3, 1e-12);
  EXPECT_EQ(eval->accuracy, 0);
}

}  // namespace
}  // namespace bnmlp
