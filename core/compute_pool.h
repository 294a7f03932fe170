// A process-wide pool of compute threads for the engine's data-parallel
// work (matrix products split into blocks).
#ifndef BNMLP_CORE_COMPUTE_POOL_H_
#define BNMLP_CORE_COMPUTE_POOL_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/functional/function_ref.h"

namespace bnmlp {

// Runs the chunks of one operation at a time on `threads` threads: the
// caller and threads - 1 workers. Why our own pool rather than the BLAS's:
// OpenBLAS's threaded GEMM mallocs per call, and its pool cannot be shared
// fairly between a training run and concurrent Predict calls. Here the BLAS
// runs single-threaded inside each chunk, nothing allocates per operation,
// and a caller that finds the pool busy (another training, a Predict) runs
// its chunks itself instead of oversubscribing the cores.
//
// Uses std::mutex / std::condition_variable (intercepted by ThreadSanitizer;
// Debian's prebuilt absl::Mutex is not, and absl::CondVar waits inside it),
// and never allocates after construction. libstdc++'s std::mutex carries no
// clang capability attribute, so the fields below say in comments which
// lock guards them instead of ABSL_GUARDED_BY. Thread-safe.
class ComputePool {
 public:
  // Also makes the process's GEMM (OpenBLAS, Eigen) single-threaded, which
  // every pool block relies on.
  explicit ComputePool(int threads);
  ~ComputePool();
  ComputePool(const ComputePool&) = delete;
  ComputePool& operator=(const ComputePool&) = delete;

  // The engine's pool: as many threads as cores until SetComputeThreads
  // (core/compute_threads.h) says otherwise. Lock-free after the first call
  // (one atomic load): SetComputeThreads runs at startup, before any work,
  // and the engine's workers (TrainingPass, Optimizer, InferenceModel, ...)
  // take the pool once at construction rather than on every operation.
  static ComputePool& Default();

  int threads() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls fn(i) for every i in [0, chunks), spread over the pool's threads
  // (or all on the calling thread if the pool is busy), and returns when
  // all have finished. fn must not call ParallelFor.
  void ParallelFor(int chunks, absl::FunctionRef<void(int)> fn);

  // How many ParallelFor calls this pool has received, busy or not: lets
  // tests observe whether an operation was split over the pool at all.
  int64_t parallel_for_calls() const {
    return parallel_for_calls_.load(std::memory_order_relaxed);
  }

 private:
  void WorkerLoop();
  // Claims and runs chunks of `job` until none are left.
  void RunChunks(absl::FunctionRef<void(int)> job, int chunks);

  std::vector<std::thread> workers_;
  // Serializes operations: held by the caller for one whole ParallelFor.
  std::mutex busy_;
  // Guards the job hand-off below; held only to open, join or close a job.
  std::mutex mu_;
  std::condition_variable wake_;
  // Bumped (under mu_) when a job opens; read without mu_ by workers
  // spinning for the next job.
  std::atomic<uint64_t> generation_{0};
  bool open_ = false;  // guarded by mu_: workers may still join
  bool stop_ = false;  // guarded by mu_
  const absl::FunctionRef<void(int)>* job_ = nullptr;  // guarded by mu_
  int chunks_ = 0;                                     // guarded by mu_

  // Chunk claiming and completion: reset only while no worker is inside a
  // job (active_ == 0), so a late worker never sees the next job's counters.
  std::atomic<int> next_chunk_{0};
  std::atomic<int> done_chunks_{0};
  std::atomic<int> active_{0};  // workers inside RunChunks
  std::atomic<int64_t> parallel_for_calls_{0};
};

}  // namespace bnmlp

#endif  // BNMLP_CORE_COMPUTE_POOL_H_
