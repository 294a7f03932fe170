#include "core/compute_threads.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "core/blas_kernels.h"
#include "core/compute_pool.h"

namespace bnmlp {
namespace {

// Read on every ComputePool::Default() without a lock; written under
// pool_mu by the first Default() and by SetComputeThreads.
std::atomic<ComputePool*> default_pool{nullptr};
std::mutex pool_mu;

// Pools that SetComputeThreads replaced. Never destroyed: a reference taken
// before the replacement (which the contract forbids, but a test or a
// mistake may do) keeps working on the old pool instead of dangling. A
// pointer held by a global, so leak checkers see it as reachable.
std::vector<ComputePool*>* retired_pools = nullptr;  // guarded by pool_mu

int DefaultThreads() {
  return static_cast<int>(
      std::clamp(std::thread::hardware_concurrency(), 1u, 64u));
}

// OpenBLAS's kernels, corrected once for CPUs it does not know
// (core/blas_kernels.h), before the first default pool and so before the
// engine's first product.
const BlasKernels& Kernels() {
  static const BlasKernels kernels = UseBestBlasKernels();
  return kernels;
}

// Publishes a new default pool of `threads` threads; pool_mu must be held.
ComputePool* InstallPoolLocked(int threads) {
  Kernels();
  ComputePool* pool = new ComputePool(threads);
  ComputePool* old = default_pool.exchange(pool, std::memory_order_acq_rel);
  if (old != nullptr) {
    if (retired_pools == nullptr) retired_pools = new std::vector<ComputePool*>;
    retired_pools->push_back(old);
  }
  return pool;
}

}  // namespace

ComputePool& ComputePool::Default() {
  if (ComputePool* pool = default_pool.load(std::memory_order_acquire)) {
    return *pool;
  }
  std::lock_guard<std::mutex> lock(pool_mu);
  if (ComputePool* pool = default_pool.load(std::memory_order_acquire)) {
    return *pool;  // another thread created it first
  }
  return *InstallPoolLocked(DefaultThreads());
}

void SetComputeThreads(int n) {
  std::lock_guard<std::mutex> lock(pool_mu);
  InstallPoolLocked(std::max(n, 1));
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
