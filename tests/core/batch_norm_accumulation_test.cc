// BatchNormTraining<float> sums over the batch in double (core/batch_norm.h):
// on a large batch whose features sit far from zero (|mean| >> std, where
// float sums lose the most), its statistics and Backward's sums are the
// double computation on the same float inputs, rounded to float once.
// The float-summing code this replaced missed every bound here by far
// (measured: means up to 330 ulps off, variances 219, dbeta 29, dgamma 759,
// running statistics 83; x_hat's mean up to 5e-3 instead of < 5e-7).
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

#include "core/batch_norm.h"
#include "gtest/gtest.h"

namespace bnmlp {
namespace {

constexpr int64_t kFeatures = 16;
constexpr int64_t kBatch = 50000;
constexpr float kEps = 1e-5f;

// |ours - exact| in units of the float ulp at `exact`. Rounding `exact` to
// the nearest float gives <= 0.5; the bounds below allow 1 for the double
// sums' own error (about kBatch * 1e-16 relative, far below a float ulp).
double UlpDistance(float ours, double exact) {
  const float rounded = static_cast<float>(std::abs(exact));
  const double ulp =
      std::nextafter(rounded, std::numeric_limits<float>::infinity()) - rounded;
  return std::abs(static_cast<double>(ours) - exact) / ulp;
}

// Feature i is 1000 + 100 i plus uniform noise in [-1, 1]: std ~0.58, mean
// 1000..2500, so mean / std ~ 2000-4000.
Matrix<float> OffsetBatch() {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> noise(-1.0f, 1.0f);
  Matrix<float> x(kFeatures, kBatch);
  for (int64_t j = 0; j < kBatch; ++j) {
    for (int64_t i = 0; i < kFeatures; ++i) {
      x(i, j) = 1000.0f + 100.0f * static_cast<float>(i) + noise(rng);
    }
  }
  return x;
}

// Exact-enough per-feature mean and biased variance of float data, in double.
void DoubleStatistics(const Matrix<float>& x, Vector<double>& mean,
                      Vector<double>& var) {
  const Matrix<double> xd = x.cast<double>();
  mean = xd.rowwise().mean();
  var = (xd.colwise() - mean).array().square().rowwise().mean();
}

TEST(BatchNormAccumulationTest, FloatBatchStatisticsAreDoubleOnesRounded) {
  Matrix<float> x = OffsetBatch();
  Vector<double> mean, var;
  DoubleStatistics(x, mean, var);
  BatchNormTraining<float> bn;
  bn.Resize(kFeatures);
  bn.Normalize(MatrixMap<float>(x.data(), kFeatures, kBatch), kEps);
  for (int64_t i = 0; i < kFeatures; ++i) {
    EXPECT_LE(UlpDistance(bn.mean()(i), mean(i)), 1.0)
        << "feature " << i << ": ours " << bn.mean()(i) << ", exact "
        << mean(i);
    EXPECT_LE(UlpDistance(bn.var()(i), var(i)), 1.0)
        << "feature " << i << ": ours " << bn.var()(i) << ", exact " << var(i);
  }
}

TEST(BatchNormAccumulationTest, NormalizedFeaturesAreCenteredToFloatRounding) {
  const Matrix<float> original = OffsetBatch();
  Vector<double> mean, var;
  DoubleStatistics(original, mean, var);
  Matrix<float> x = original;
  BatchNormTraining<float> bn;
  bn.Resize(kFeatures);
  bn.Normalize(MatrixMap<float>(x.data(), kFeatures, kBatch), kEps);
  const Matrix<double> x_hat = x.cast<double>();
  for (int64_t i = 0; i < kFeatures; ++i) {
    // Each x_hat is its exact value up to a few float roundings (each at
    // most 2^-24 relative, |x_hat| < 2), so their mean is within 2^-21 of
    // the exact mean, 0. Subtracting the mean rounded to float would shift
    // every sample by that rounding error: ~3e-5 at 1000, ~5e-5 std.
    EXPECT_LE(std::abs(x_hat.row(i).mean()), std::ldexp(1.0, -21))
        << "feature " << i;
    const double expected_var = var(i) / (var(i) + kEps);
    const double x_hat_var = x_hat.row(i).array().square().mean();
    EXPECT_NEAR(x_hat_var, expected_var, std::ldexp(1.0, -21))
        << "feature " << i;
  }
}

TEST(BatchNormAccumulationTest, FloatBackwardSumsAreDoubleOnesRounded) {
  Matrix<float> x = OffsetBatch();
  BatchNormTraining<float> bn;
  bn.Resize(kFeatures);
  bn.Normalize(MatrixMap<float>(x.data(), kFeatures, kBatch), kEps);
  // dy with heavy cancellation: alternating 100 and -97 (plus noise), so
  // sum(dy) ~ 1.5 kBatch while sum(|dy|) ~ 100 kBatch.
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> noise(-1.0f, 1.0f);
  Matrix<float> dy(kFeatures, kBatch);
  for (int64_t j = 0; j < kBatch; ++j) {
    for (int64_t i = 0; i < kFeatures; ++i) {
      dy(i, j) = (j % 2 ? 100.0f : -97.0f) + noise(rng);
    }
  }
  const Vector<double> expected_dbeta = dy.cast<double>().rowwise().sum();
  const Vector<double> expected_dgamma =
      dy.cast<double>().cwiseProduct(x.cast<double>()).rowwise().sum();
  Vector<float> gamma = Vector<float>::Ones(kFeatures), dgamma(kFeatures),
                dbeta(kFeatures);
  bn.Backward(MatrixMap<float>(dy.data(), kFeatures, kBatch),
              ConstMatrixMap<float>(x.data(), kFeatures, kBatch), gamma, dgamma,
              dbeta);
  for (int64_t i = 0; i < kFeatures; ++i) {
    EXPECT_LE(UlpDistance(dbeta(i), expected_dbeta(i)), 1.0)
        << "feature " << i << ": ours " << dbeta(i) << ", exact "
        << expected_dbeta(i);
    EXPECT_LE(UlpDistance(dgamma(i), expected_dgamma(i)), 1.0)
        << "feature " << i << ": ours " << dgamma(i) << ", exact "
        << expected_dgamma(i);
  }
}

TEST(BatchNormAccumulationTest, RunningStatisticsRoundOnce) {
  Matrix<float> x = OffsetBatch();
  Vector<double> mean, var;
  DoubleStatistics(x, mean, var);
  BatchNormTraining<float> bn;
  bn.Resize(kFeatures);
  bn.Normalize(MatrixMap<float>(x.data(), kFeatures, kBatch), kEps);
  // Momentum 0.5 (exact in float) from running statistics 0 / 1.
  Vector<float> running_mean = Vector<float>::Zero(kFeatures);
  Vector<float> running_var = Vector<float>::Ones(kFeatures);
  bn.UpdateRunningStatistics(0.5f, running_mean, running_var);
  const double unbias = static_cast<double>(kBatch) / (kBatch - 1);
  for (int64_t i = 0; i < kFeatures; ++i) {
    EXPECT_LE(UlpDistance(running_mean(i), 0.5 * mean(i)), 1.0)
        << "feature " << i;
    EXPECT_LE(UlpDistance(running_var(i), 0.5 + 0.5 * unbias * var(i)), 1.0)
        << "feature " << i;
  }
}

}  // namespace
}  // namespace bnmlp
