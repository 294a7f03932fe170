#include "core/loss.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"

namespace bnmlp {
namespace {

TEST(SoftmaxCrossEntropyTest, MatchesTheDefinition) {
  Matrix<double> logits(3, 2);
  logits << 1, 0.5, 2, -1, -1, 3;
  const Matrix<double> original = logits;
  const std::vector<int32_t> labels = {1, 2};
  Matrix<double> grad(3, 2);
  MatrixMap<double> grad_map(grad.data(), 3, 2);
  int64_t correct = 0;
  const double loss = SoftmaxCrossEntropy<double>(
      MatrixMap<double>(logits.data(), 3, 2), labels, &grad_map, &correct);
  double expected = 0;
  for (int j = 0; j < 2; ++j) {
    const double denom = original.col(j).array().exp().sum();
    expected -= std::log(std::exp(original(labels[j], j)) / denom);
    for (int i = 0; i < 3; ++i) {
      const double p = std::exp(original(i, j)) / denom;
      EXPECT_NEAR(logits(i, j), p, 1e-15);  // now probabilities
      EXPECT_NEAR(grad(i, j), (p - (i == labels[j])) / 2, 1e-15);
    }
  }
  EXPECT_NEAR(loss, expected / 2, 1e-15);
  EXPECT_EQ(correct, 2);  // argmax 1 and 2
}

TEST(SoftmaxCrossEntropyTest, StaysFiniteForConfidentMistakes) {
  Matrix<float> logits(2, 1);
  logits << 1000.0f, -1000.0f;  // certain of class 0; the label is 1
  const std::vector<int32_t> labels = {1};
  int64_t correct = 0;
  const double loss = SoftmaxCrossEntropy<float>(
      MatrixMap<float>(logits.data(), 2, 1), labels, nullptr, &correct);
  EXPECT_NEAR(loss, 2000.0, 1e-3);  // log-sum-exp, no log(0)
  EXPECT_EQ(correct, 0);
  EXPECT_FLOAT_EQ(logits(0, 0), 1.0f);
}

TEST(MeanSquaredErrorTest, AveragesOverEveryEntry) {
  Matrix<double> out(2, 2), target(2, 2);
  out << 1, 2, 3, 4;
  target << 0, 2, 5, 4;
  Matrix<double> grad(2, 2);
  MatrixMap<double> grad_map(grad.data(), 2, 2);
  const double loss = MeanSquaredError<double>(
      ConstMatrixMap<double>(out.data(), 2, 2),
      ConstMatrixMap<double>(target.data(), 2, 2), &grad_map);
  EXPECT_DOUBLE_EQ(loss, (1.0 + 4.0) / 4);
  EXPECT_DOUBLE_EQ(grad(0, 0), 2.0 * 1 / 4);
  EXPECT_DOUBLE_EQ(grad(1, 0), 2.0 * -2 / 4);
  EXPECT_DOUBLE_EQ(grad(0, 1), 0);
}

TEST(SoftmaxTest, ColumnsBecomeDistributions) {
  Matrix<float> m(3, 2);
  m << 100, 0, 101, 0, 99, 0;
  Softmax<float>(MatrixMap<float>(m.data(), 3, 2));
  EXPECT_TRUE(m.colwise().sum().isOnes(1e-6f));
  EXPECT_NEAR(m(0, 1), 1.0f / 3, 1e-6f);
  EXPECT_GT(m(1, 0), m(0, 0));
}

}  // namespace
}  // namespace bnmlp
