#include "core/batch_norm.h"

#include "gtest/gtest.h"

namespace bnmlp {
namespace {

TEST(BatchNormTrainingTest, NormalizesEachFeatureWithTheBiasedBatchVariance) {
  Matrix<double> x(2, 4);
  x << 1, 2, 3, 4,  //
      10, 10, 10, 30;
  BatchNormTraining<double> bn;
  bn.Resize(2);
  bn.Normalize(MatrixMap<double>(x.data(), 2, 4), 1e-5);
  EXPECT_DOUBLE_EQ(bn.mean()(0), 2.5);
  EXPECT_DOUBLE_EQ(bn.var()(0), 1.25);  // biased: sum of squares / 4
  EXPECT_DOUBLE_EQ(bn.var()(1), 75);
  EXPECT_NEAR(x.row(0).mean(), 0, 1e-15);
  EXPECT_NEAR(x(0, 0), -1.5 / std::sqrt(1.25 + 1e-5), 1e-12);
  EXPECT_NEAR(x(1, 3), 15 / std::sqrt(75 + 1e-5), 1e-12);
}

TEST(BatchNormTrainingTest, RunningStatisticsUseTheUnbiasedVariance) {
  Matrix<double> x(1, 4);
  x << 1, 2, 3, 4;
  BatchNormTraining<double> bn;
  bn.Resize(1);
  bn.Normalize(MatrixMap<double>(x.data(), 1, 4), 1e-5);
  Vector<double> mean = Vector<double>::Zero(1), var = Vector<double>::Ones(1);
  bn.UpdateRunningStatistics(0.1, mean, var);
  EXPECT_DOUBLE_EQ(mean(0), 0.1 * 2.5);
  EXPECT_DOUBLE_EQ(var(0), 0.9 + 0.1 * 1.25 * 4 / 3);
}

TEST(BatchNormTrainingTest, BackwardMatchesFiniteDifferences) {
  // L = sum(w .* (gamma x_hat + beta)) for fixed weights w.
  Matrix<double> x(3, 5), w(3, 5);
  x.setRandom();
  w.setRandom();
  Vector<double> gamma(3);
  gamma << 0.5, 1.5, -2;
  auto loss = [&](const Matrix<double>& in) {
    Matrix<double> copy = in;
    BatchNormTraining<double> bn;
    bn.Resize(3);
    bn.Normalize(MatrixMap<double>(copy.data(), 3, 5), 1e-5);
    return (w.array() * (copy.array().colwise() * gamma.array())).sum();
  };
  Matrix<double> x_hat = x;
  BatchNormTraining<double> bn;
  bn.Resize(3);
  bn.Normalize(MatrixMap<double>(x_hat.data(), 3, 5), 1e-5);
  Matrix<double> grad = w;
  Vector<double> dgamma(3), dbeta(3);
  bn.Backward(MatrixMap<double>(grad.data(), 3, 5),
              ConstMatrixMap<double>(x_hat.data(), 3, 5), gamma, dgamma, dbeta);
  for (Eigen::Index k = 0; k < x.size(); ++k) {
    Matrix<double> up = x, down = x;
    up.data()[k] += 1e-6;
    down.data()[k] -= 1e-6;
    EXPECT_NEAR(grad.data()[k], (loss(up) - loss(down)) / 2e-6, 1e-6);
  }
  EXPECT_TRUE(dbeta.isApprox(w.rowwise().sum()));
  EXPECT_TRUE(dgamma.isApprox(w.cwiseProduct(x_hat).rowwise().sum()));
}

TEST(EvalScaleShiftTest, FoldsRunningStatisticsIntoAnAffineMap) {
  Vector<double> gamma(1), beta(1), mean(1), var(1), scale(1), shift(1);
  gamma << 2;
  beta << 1;
  mean << 3;
  var << 4;
  EvalScaleShift(gamma, beta, mean, var, 0.0, scale, shift);
  // y = 2 (x - 3) / 2 + 1 = x - 2.
  EXPECT_DOUBLE_EQ(scale(0), 1);
  EXPECT_DOUBLE_EQ(shift(0), -2);
}

}  // namespace
}  // namespace bnmlp
