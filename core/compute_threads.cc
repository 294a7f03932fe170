#include "core/compute_threads.h"

#include <Eigen/Core>
#include <algorithm>
#include <memory>
#include <mutex>
#include <thread>

#include "core/blas_kernels.h"
#include "core/compute_pool.h"

#if defined(BNMLP_GEMM_OPENBLAS)
extern "C" void openblas_set_num_threads(int num_threads);
#endif

namespace bnmlp {
namespace {

std::mutex pool_mu;
std::unique_ptr<ComputePool> default_pool;  // guarded by pool_mu

int DefaultThreads() {
  return static_cast<int>(
      std::clamp(std::thread::hardware_concurrency(), 1u, 64u));
}

// OpenBLAS's kernels, corrected once for CPUs it does not know
// (core/blas_kernels.h), before the first pool and so before any product.
const BlasKernels& Kernels() {
  static const BlasKernels kernels = UseBestBlasKernels();
  return kernels;
}

// Every GEMM inside a pool chunk runs single-threaded: parallelism comes
// from the pool, never from the BLAS (whose threaded path mallocs per call).
void ConfigureGemm() {
  Kernels();
#if defined(BNMLP_GEMM_OPENBLAS)
  openblas_set_num_threads(1);
#endif
  Eigen::setNbThreads(1);
}

}  // namespace

ComputePool& ComputePool::Default() {
  std::lock_guard<std::mutex> lock(pool_mu);
  if (default_pool == nullptr) {
    ConfigureGemm();
    default_pool = std::make_unique<ComputePool>(DefaultThreads());
  }
  return *default_pool;
}

void SetComputeThreads(int n) {
  std::lock_guard<std::mutex> lock(pool_mu);
  ConfigureGemm();
  default_pool = std::make_unique<ComputePool>(std::max(n, 1));
}

int ComputeThreads() { return ComputePool::Default().threads(); }

std::string GemmKernels() {
  const BlasKernels& kernels = Kernels();
  if (kernels.in_use == kernels.detected) return kernels.in_use;
  return kernels.in_use + " (OpenBLAS chose " + kernels.detected + ")";
}

const char* GemmBackend() {
#if defined(BNMLP_GEMM_OPENBLAS)
  return "openblas";
#else
  return "eigen";
#endif
}

}  // namespace bnmlp
