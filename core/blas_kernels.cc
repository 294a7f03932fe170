#include "core/blas_kernels.h"

#include <cstdlib>

#include "absl/strings/ascii.h"

#if defined(BNMLP_GEMM_OPENBLAS)
// OpenBLAS's own API, and the two exported functions of its DYNAMIC_ARCH
// dispatcher that choose the kernels (from OPENBLAS_CORETYPE, else from the
// CPU) and drop the choice. Weak: an OpenBLAS without them (a build for
// one CPU) simply keeps its kernels.
extern "C" char* openblas_get_corename(void);
extern "C" void gotoblas_dynamic_init(void) __attribute__((weak));
extern "C" void gotoblas_dynamic_quit(void) __attribute__((weak));
#endif

namespace bnmlp {

VectorLevel BlasKernelsLevel(absl::string_view core) {
  const std::string name = absl::AsciiStrToLower(core);
  if (name == "skylakex" || name == "cooperlake" || name == "sapphirerapids") {
    return VectorLevel::kAvx512;
  }
  if (name == "haswell" || name == "zen" || name == "excavator") {
    return VectorLevel::kAvx2;
  }
  return VectorLevel::kBelowAvx2;
}

std::string BetterBlasKernels(absl::string_view core, VectorLevel cpu) {
  if (BlasKernelsLevel(core) != VectorLevel::kBelowAvx2) return "";
  switch (cpu) {
    case VectorLevel::kAvx512:
      return "SkylakeX";
    case VectorLevel::kAvx2:
      return "Haswell";
    case VectorLevel::kBelowAvx2:
      return "";
  }
  return "";
}

int64_t SmallKernelPanelCols(VectorLevel kernels, int64_t rows, int64_t depth) {
  if (kernels != VectorLevel::kAvx512 || rows <= 0 || depth <= 0) return 0;
  for (const int64_t cols : {4, 2}) {
    if (rows * cols <= 1200 &&
        static_cast<double>(rows) * cols * depth <= 1e6) {
      return cols;
    }
  }
  return 0;
}

int64_t SmallKernelPanelCols(int64_t rows, int64_t depth) {
#if defined(BNMLP_GEMM_OPENBLAS)
  return SmallKernelPanelCols(BlasKernelsLevel(openblas_get_corename()), rows,
                              depth);
#else
  return 0;
#endif
}

VectorLevel CpuVectorLevel() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
      __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vl")) {
    return VectorLevel::kAvx512;
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    return VectorLevel::kAvx2;
  }
  return VectorLevel::kBelowAvx2;
}

BlasKernels UseBestBlasKernels() {
  BlasKernels kernels;
#if defined(BNMLP_GEMM_OPENBLAS)
  kernels.detected = openblas_get_corename();
  kernels.in_use = kernels.detected;
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr) return kernels;
  if (gotoblas_dynamic_init == nullptr || gotoblas_dynamic_quit == nullptr) {
    return kernels;
  }
  const std::string better =
      BetterBlasKernels(kernels.detected, CpuVectorLevel());
  if (better.empty()) return kernels;
  // gotoblas_dynamic_init reads the choice from the environment; it is
  // removed again, so that child processes make their own.
  setenv("OPENBLAS_CORETYPE", better.c_str(), /*overwrite=*/1);
  gotoblas_dynamic_quit();
  gotoblas_dynamic_init();
  unsetenv("OPENBLAS_CORETYPE");
  kernels.in_use = openblas_get_corename();
#endif
  return kernels;
}

}  // namespace bnmlp
