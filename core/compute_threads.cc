#include "core/compute_threads.h"

#include <Eigen/Core>
#include <algorithm>

#if defined(BNMLP_GEMM_OPENBLAS)
extern "C" {
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
}
#endif

namespace bnmlp {

void SetComputeThreads(int n) {
  n = std::max(n, 1);
#if defined(BNMLP_GEMM_OPENBLAS)
  openblas_set_num_threads(n);
#endif
  Eigen::setNbThreads(n);
}

int ComputeThreads() {
#if defined(BNMLP_GEMM_OPENBLAS)
  return openblas_get_num_threads();
#else
  return Eigen::nbThreads();
#endif
}

const char* GemmBackend() {
#if defined(BNMLP_GEMM_OPENBLAS)
  return "openblas";
#elif defined(BNMLP_GEMM_EIGEN_OPENMP)
  return "eigen-openmp";
#else
  return "eigen";
#endif
}

}  // namespace bnmlp
