// How many threads the engine's matrix products may use.
#ifndef BNMLP_CORE_COMPUTE_THREADS_H_
#define BNMLP_CORE_COMPUTE_THREADS_H_

namespace bnmlp {

// Sets the GEMM thread count for the whole process (OpenBLAS's or Eigen's
// pool, whichever backend the build uses). n < 1 means 1. Call at startup,
// before any training or inference runs.
void SetComputeThreads(int n);
int ComputeThreads();

// The GEMM backend compiled in: "openblas", "eigen-openmp" or "eigen".
const char* GemmBackend();

}  // namespace bnmlp

#endif  // BNMLP_CORE_COMPUTE_THREADS_H_
