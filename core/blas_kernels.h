// Which GEMM kernels OpenBLAS runs on this CPU, corrected where OpenBLAS
// does not know the CPU.
//
// OpenBLAS (DYNAMIC_ARCH, as Debian builds it) picks its kernels at startup
// from the CPU's vendor, family and model numbers. A version older than the
// CPU does not know its model and falls back to a generic choice: OpenBLAS
// 0.3.21 (Debian 12) runs its SSE3 "Prescott" kernels on an Intel Xeon of
// model 207 (Emerald Rapids), which makes this engine's training 2-3x
// slower than with the AVX-512 kernels that CPU runs. OPENBLAS_CORETYPE
// overrides the choice, but a deployed server (a container, a service unit)
// must not depend on an environment variable to run at full speed.
#ifndef BNMLP_CORE_BLAS_KERNELS_H_
#define BNMLP_CORE_BLAS_KERNELS_H_

#include <string>

#include "absl/strings/string_view.h"

namespace bnmlp {

// The widest vector instructions a CPU, or a set of kernels, uses.
enum class VectorLevel { kBelowAvx2, kAvx2, kAvx512 };

// The level OpenBLAS's kernels named `core` use (openblas_get_corename():
// "Prescott", "Haswell", "SkylakeX", ...; case-insensitive). Unknown names
// count as kBelowAvx2.
VectorLevel BlasKernelsLevel(absl::string_view core);

// The kernels to switch to when OpenBLAS chose `core` on a CPU of level
// `cpu`: "SkylakeX" (AVX-512) or "Haswell" (AVX2 + FMA) when `core` is a
// fallback below AVX2 that the CPU outruns, "" to keep OpenBLAS's choice
// (every choice of AVX2 or more is OpenBLAS knowing the CPU).
std::string BetterBlasKernels(absl::string_view core, VectorLevel cpu);

// This CPU's level: kAvx512 with AVX-512 F, CD, BW, DQ and VL (what
// OpenBLAS's SkylakeX kernels need), kAvx2 with AVX2 and FMA.
VectorLevel CpuVectorLevel();

// The panel width, in columns (4 or 2), at which OpenBLAS's small-matrix
// sgemm kernels multiply a row-major `rows` x `depth` weight by a panel in
// place, without packing the weight; 0 where they would not. Only
// `kernels` of level kAvx512 have them (OpenBLAS 0.3.21, Debian 12), and
// they take our transposed-A products while rows x cols <= 1200 and rows x
// cols x depth <= 10^6. Measured on this project's machine, one thread, a
// 16-column product of a 784-deep weight: 256 rows whole 87 us, in panels
// of 4 32 us; 304 rows in panels of 4 (past 1200) 302 us. Where the
// kernels lack them, panels pack the weight once per panel (Haswell, 256
// rows: 265 us against 110). A rule, not a timing, so that every process
// on a machine computes with the same kernels and answers the same bits.
int64_t SmallKernelPanelCols(VectorLevel kernels, int64_t rows, int64_t depth);
// The same for the kernels OpenBLAS runs now (0 without OpenBLAS).
int64_t SmallKernelPanelCols(int64_t rows, int64_t depth);

struct BlasKernels {
  std::string detected;  // what OpenBLAS chose by itself; "" without OpenBLAS
  std::string in_use;    // what runs now
};

// Switches OpenBLAS to BetterBlasKernels(its choice, CpuVectorLevel()) if
// that is not "" and OPENBLAS_CORETYPE is unset (a choice made by the user
// stands); returns what it found and what runs. Does nothing without
// OpenBLAS (BNMLP_GEMM=eigen) or if this OpenBLAS cannot switch. Not thread
// safe: call before any matrix product runs, while no other thread uses
// OpenBLAS; SetComputeThreads() and the first ComputePool::Default() call
// it once (core/compute_threads.cc).
BlasKernels UseBestBlasKernels();

}  // namespace bnmlp

#endif  // BNMLP_CORE_BLAS_KERNELS_H_
