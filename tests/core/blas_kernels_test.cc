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

// OpenBLAS 0.3.21's small-matrix sgemm kernels (AVX-512 only) take a
// transposed-A product while rows x cols <= 1200 and rows x cols x depth
// <= 10^6: the widest panel within both, 4 or 2 columns, or none.
TEST(SmallKernelPanelColsTest, TheWidestPanelTheKernelsTake) {
  constexpr VectorLevel kAvx512 = VectorLevel::kAvx512;
  EXPECT_EQ(SmallKernelPanelCols(kAvx512, 256, 784), 4);
  EXPECT_EQ(SmallKernelPanelCols(kAvx512, 300, 784), 4);  // 1200 exactly
  EXPECT_EQ(SmallKernelPanelCols(kAvx512, 304, 784), 2);
  EXPECT_EQ(SmallKernelPanelCols(kAvx512, 600, 784), 2);
  EXPECT_EQ(SmallKernelPanelCols(kAvx512, 601, 784), 0);
  EXPECT_EQ(SmallKernelPanelCols(kAvx512, 1024, 784), 0);
  // Deep weights: 64 x 4 x 4096 is past 10^6, 64 x 2 x 4096 is not.
  EXPECT_EQ(SmallKernelPanelCols(kAvx512, 64, 4096), 2);
  EXPECT_EQ(SmallKernelPanelCols(kAvx512, 128, 4096), 0);
  EXPECT_EQ(SmallKernelPanelCols(kAvx512, 10, 128), 4);
}

TEST(SmallKernelPanelColsTest, NoneWithoutTheKernels) {
  for (VectorLevel level : {VectorLevel::kAvx2, VectorLevel::kBelowAvx2}) {
    EXPECT_EQ(SmallKernelPanelCols(level, 256, 784), 0);
    EXPECT_EQ(SmallKernelPanelCols(level, 10, 128), 0);
  }
  EXPECT_EQ(SmallKernelPanelCols(VectorLevel::kAvx512, 0, 784), 0);
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
