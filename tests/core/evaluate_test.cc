#include "core/evaluate.h"

#include "core/predict.h"
#include "core/trainer.h"
#include "gtest/gtest.h"
#include "tests/core/test_data.h"

namespace bnmlp {
namespace {

TEST(EvaluateTest, AgreesWithPredictOverChunks) {
  // 2500 samples: three chunks of Evaluate's 1024, the last partial.
  const testing::Blobs data = testing::MakeBlobs(2500, 5, 3, 4);
  ModelConfig c;
  c.layer_sizes = {5, 8, 3};
  Model<float> model = *Model<float>::Create(c);
  TrainOptions o;
  o.epochs = 1;
  o.batch_size = 50;
  ASSERT_TRUE(Train(&model, data.View(), nullptr, o).ok());

  absl::StatusOr<Evaluation> eval = Evaluate(model, data.View());
  ASSERT_TRUE(eval.ok());
  Matrix<float> p(3, 2500);
  ASSERT_TRUE(Predict(model, ConstMatrixMap<float>(data.x.data(), 5, 2500),
                      MatrixMap<float>(p.data(), 3, 2500))
                  .ok());
  int64_t correct = 0;
  double loss = 0;
  for (int j = 0; j < 2500; ++j) {
    Eigen::Index best;
    p.col(j).maxCoeff(&best);
    correct += best == data.labels[j];
    loss -= std::log(static_cast<double>(p(data.labels[j], j)));
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
  EXPECT_EQ(Evaluate(model, data.View()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace bnmlp
