// How many threads the engine's matrix products may use.
#ifndef BNMLP_CORE_COMPUTE_THREADS_H_
#define BNMLP_CORE_COMPUTE_THREADS_H_

#include <string>

namespace bnmlp {

// Sizes the engine's compute pool (core/compute_pool.h) to n threads, the
// caller included; n < 1 means 1. The default is one per core.
//
// Contract: call once at startup, before any training or inference runs and
// before constructing anything that holds the pool (TrainingPass, Optimizer,
// InferenceModel, ...): they take ComputePool::Default() once at
// construction, so objects built earlier keep using the pool that was the
// default then (it is kept alive, never destroyed).
void SetComputeThreads(int n);
int ComputeThreads();

// The GEMM inside each pool block: "openblas" (Eigen with EIGEN_USE_BLAS)
// or "eigen".
const char* GemmBackend();

// OpenBLAS's kernels in use, e.g. "SkylakeX", or "SkylakeX (OpenBLAS chose
// Prescott)" where core/blas_kernels.h corrected OpenBLAS's choice; "" with
// the eigen backend.
std::string GemmKernels();

}  // namespace bnmlp

#endif  // BNMLP_CORE_COMPUTE_THREADS_H_
