#include "core/activation.h"

#include <cmath>

#include "gtest/gtest.h"

namespace bnmlp {
namespace {

double Reference(Activation a, double x) {
  switch (a) {
    case Activation::kRelu:
      return x > 0 ? x : 0;
    case Activation::kTanh:
      return std::tanh(x);
    case Activation::kSigmoid:
      return 1 / (1 + std::exp(-x));
    case Activation::kIdentity:
      return x;
  }
  return NAN;
}

class ActivationTest : public ::testing::TestWithParam<Activation> {};

TEST_P(ActivationTest, AffineThenActivateMatchesTheDefinition) {
  const Activation a = GetParam();
  Matrix<double> in(3, 4);
  in.setRandom();
  in *= 3;
  const Vector<double> scale = Vector<double>::Random(3);
  const Vector<double> shift = Vector<double>::Random(3);
  Matrix<double> out(3, 4);
  AffineActivation<double>(a, scale.data(), shift.data(),
                           ConstMatrixMap<double>(in.data(), 3, 4),
                           MatrixMap<double>(out.data(), 3, 4));
  Matrix<double> bias_only(3, 4);
  AffineActivation<double>(a, nullptr, shift.data(),
                           ConstMatrixMap<double>(in.data(), 3, 4),
                           MatrixMap<double>(bias_only.data(), 3, 4));
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 4; ++j) {
      EXPECT_NEAR(out(i, j), Reference(a, scale(i) * in(i, j) + shift(i)),
                  1e-14);
      EXPECT_NEAR(bias_only(i, j), Reference(a, in(i, j) + shift(i)), 1e-14);
    }
  }
}

TEST_P(ActivationTest, DerivativeFromTheOutputMatchesFiniteDifferences) {
  const Activation a = GetParam();
  Matrix<double> x(2, 3);
  x << -2.5, -0.3, 0.4, 1.7, 3.2, -1.1;
  Matrix<double> y(2, 3);
  AffineActivation<double>(a, nullptr, nullptr,
                           ConstMatrixMap<double>(x.data(), 2, 3),
                           MatrixMap<double>(y.data(), 2, 3));
  Matrix<double> grad = Matrix<double>::Ones(2, 3);
  MultiplyByDerivative<double>(a, ConstMatrixMap<double>(y.data(), 2, 3),
                               MatrixMap<double>(grad.data(), 2, 3));
  for (Eigen::Index k = 0; k < x.size(); ++k) {
    const double h = 1e-6, v = x.data()[k];
    const double numeric =
        (Reference(a, v + h) - Reference(a, v - h)) / (2 * h);
    EXPECT_NEAR(grad.data()[k], numeric, 1e-8) << "at x = " << v;
  }
}

INSTANTIATE_TEST_SUITE_P(All, ActivationTest,
                         ::testing::Values(Activation::kRelu, Activation::kTanh,
                                           Activation::kSigmoid,
                                           Activation::kIdentity),
                         [](const ::testing::TestParamInfo<Activation>& info) {
                           return std::string(ActivationName(info.param));
                         });

TEST(ActivationTest, ReluDerivativeAtZeroIsZeroLikePyTorch) {
  Matrix<float> y = Matrix<float>::Zero(1, 2);
  Matrix<float> grad = Matrix<float>::Ones(1, 2);
  MultiplyByDerivative<float>(Activation::kRelu,
                              ConstMatrixMap<float>(y.data(), 1, 2),
                              MatrixMap<float>(grad.data(), 1, 2));
  EXPECT_TRUE(grad.isZero());
}

}  // namespace
}  // namespace bnmlp
