#include "core/blas_kernels.h"

#include <Eigen/Core>
#include <cstdlib>

#include "gtest/gtest.h"

namespace bnmlp {
namespace {

TEST(BlasKernelsLevelTest, NamesOpenBlasKernelsByWidestVectors) {
  EXPECT_EQ(BlasKernelsLevel("SkylakeX"), VectorLevel::kAvx512);
  EXPECT_EQ(BlasKernelsLevel("COOPERLAKE"), VectorLevel::kAvx512);
  EXPECT_EQ(BlasKernelsLevel("SapphireRapids"), VectorLevel::kAvx512);
  EXPECT_EQ(BlasKernelsLevel("Haswell"), VectorLevel::kAvx2);
  EXPECT_EQ(BlasKernelsLevel("zen"), VectorLevel::kAvx2);
  EXPECT_EQ(BlasKernelsLevel("Prescott"), VectorLevel::kBelowAvx2);
  EXPECT_EQ(BlasKernelsLevel("Sandybridge"), VectorLevel::kBelowAvx2);
  EXPECT_EQ(BlasKernelsLevel("NoSuchCore"), VectorLevel::kBelowAvx2);
}

TEST(BetterBlasKernelsTest, ReplacesFallbacksTheCpuOutruns) {
  EXPECT_EQ(BetterBlasKernels("Prescott", VectorLevel::kAvx512), "SkylakeX");
  EXPECT_EQ(BetterBlasKernels("Prescott", VectorLevel::kAvx2), "Haswell");
  EXPECT_EQ(BetterBlasKernels("Sandybridge", VectorLevel::kAvx2), "Haswell");
  EXPECT_EQ(BetterBlasKernels("Prescott", VectorLevel::kBelowAvx2), "");
}

TEST(BetterBlasKernelsTest, KeepsChoicesOfAKnownCpu) {
  // OpenBLAS choosing AVX2 or AVX-512 kernels knows the CPU: Zen on a
  // Zen 4 is its own choice, not a fallback.
  EXPECT_EQ(BetterBlasKernels("Haswell", VectorLevel::kAvx512), "");
  EXPECT_EQ(BetterBlasKernels("Zen", VectorLevel::kAvx512), "");
  EXPECT_EQ(BetterBlasKernels("SkylakeX", VectorLevel::kAvx512), "");
  EXPECT_EQ(BetterBlasKernels("Cooperlake", VectorLevel::kAvx2), "");
}

TEST(UseBestBlasKernelsTest,
     RunsKernelsAsWideAsTheCpuAllowsAndStillMultiplies) {
  const bool user_choice = std::getenv("OPENBLAS_CORETYPE") != nullptr;
  const BlasKernels kernels = UseBestBlasKernels();
#if defined(BNMLP_GEMM_OPENBLAS)
  ASSERT_FALSE(kernels.detected.empty());
  if (user_choice) {
    EXPECT_EQ(kernels.in_use, kernels.detected) << "OPENBLAS_CORETYPE stands";
  } else if (BlasKernelsLevel(kernels.detected) == VectorLevel::kBelowAvx2) {
    EXPECT_GE(BlasKernelsLevel(kernels.in_use), CpuVectorLevel())
        << "OpenBLAS chose " << kernels.detected << ", now runs "
        << kernels.in_use;
  } else {
    EXPECT_EQ(kernels.in_use, kernels.detected);
  }
  EXPECT_EQ(std::getenv("OPENBLAS_CORETYPE") != nullptr, user_choice)
      << "the environment is left as it was";
#else
  EXPECT_EQ(kernels.detected, "");
  EXPECT_EQ(kernels.in_use, "");
#endif
  // A product large enough for the BLAS, against a plain loop.
  const Eigen::MatrixXf a = Eigen::MatrixXf::Random(96, 80);
  const Eigen::MatrixXf b = Eigen::MatrixXf::Random(80, 72);
  const Eigen::MatrixXf product = a * b;
  for (int i = 0; i < a.rows(); ++i) {
    for (int j = 0; j < b.cols(); ++j) {
      double expected = 0;
      for (int k = 0; k < a.cols(); ++k) expected += double{a(i, k)} * b(k, j);
      ASSERT_NEAR(product(i, j), expected, 1e-4) << i << "," << j;
    }
  }
}

}  // namespace
}  // namespace bnmlp
