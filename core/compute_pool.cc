#include "core/compute_pool.h"

#include <Eigen/Core>
#include <algorithm>
#include <chrono>

#if defined(BNMLP_GEMM_OPENBLAS)
extern "C" void openblas_set_num_threads(int num_threads);
#endif

namespace bnmlp {
namespace {

// How long an idle worker polls for the next job before it sleeps.
constexpr std::chrono::microseconds kSpinBeforeSleeping(100);

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#else
  std::this_thread::yield();
#endif
}

// Waits for a short operation on another core to finish: spin first (the
// blocks are sub-millisecond), then give the core away.
template <typename Done>
void SpinUntil(Done done) {
  for (int spins = 0; !done(); ++spins) {
    if (spins > 256) std::this_thread::yield();
  }
}

// Every GEMM inside a pool chunk runs single-threaded: parallelism comes
// from the pool, never from the BLAS (whose threaded path mallocs per
// call). Process-wide settings, made by every pool so that no pool's blocks
// ever run a threaded GEMM.
void MakeGemmSingleThreaded() {
#if defined(BNMLP_GEMM_OPENBLAS)
  openblas_set_num_threads(1);
#endif
  Eigen::setNbThreads(1);
}

}  // namespace

ComputePool::ComputePool(int threads) {
  MakeGemmSingleThreaded();
  for (int i = 1; i < std::max(threads, 1); ++i) {
    workers_.emplace_back([this] { WorkerLoop(); });
  }
}

ComputePool::~ComputePool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ComputePool::WorkerLoop() {
  uint64_t seen = 0;
  while (true) {
    // A training step issues products back to back, separated by short
    // elementwise passes: spinning briefly for the next job saves the
    // futex wake-up (tens of microseconds) that blocking would add to each.
    const auto spin_until =
        std::chrono::steady_clock::now() + kSpinBeforeSleeping;
    for (int spins = 1; generation_.load(std::memory_order_acquire) == seen;
         ++spins) {
      CpuRelax();
      if (spins % 64 == 0 && std::chrono::steady_clock::now() > spin_until) {
        break;
      }
    }
    const absl::FunctionRef<void(int)>* job;
    int chunks;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      if (!open_) continue;  // woke too late: that job is already closed
      job = job_;
      chunks = chunks_;
      active_.fetch_add(1);
    }
    RunChunks(*job, chunks);
    active_.fetch_sub(1, std::memory_order_release);
  }
}

void ComputePool::RunChunks(absl::FunctionRef<void(int)> job, int chunks) {
  for (int i = next_chunk_.fetch_add(1); i < chunks;
       i = next_chunk_.fetch_add(1)) {
    job(i);
    done_chunks_.fetch_add(1, std::memory_order_release);
  }
}

void ComputePool::ParallelFor(int chunks, absl::FunctionRef<void(int)> fn) {
  parallel_for_calls_.fetch_add(1, std::memory_order_relaxed);
  std::unique_lock<std::mutex> busy(busy_, std::try_to_lock);
  if (!busy.owns_lock() || workers_.empty() || chunks <= 1) {
    for (int i = 0; i < chunks; ++i) fn(i);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    job_ = &fn;
    chunks_ = chunks;
    next_chunk_.store(0);
    done_chunks_.store(0);
    open_ = true;
    ++generation_;
  }
  wake_.notify_all();
  RunChunks(fn, chunks);
  SpinUntil(
      [&] { return done_chunks_.load(std::memory_order_acquire) == chunks; });
  {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = false;
  }
  // Workers that joined may still be between their last claim and leaving.
  SpinUntil([&] { return active_.load(std::memory_order_acquire) == 0; });
}

}  // namespace bnmlp
