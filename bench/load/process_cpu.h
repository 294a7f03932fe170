// CPU time of a process, to tell which side of a load test is the
// bottleneck.
#ifndef BNMLP_BENCH_LOAD_PROCESS_CPU_H_
#define BNMLP_BENCH_LOAD_PROCESS_CPU_H_

#include <sys/types.h>

#include "absl/status/statusor.h"

namespace bnmlp::bench {

// User + system CPU seconds `pid` has used so far (all its threads), from
// /proc/<pid>/stat.
absl::StatusOr<double> ProcessCpuSeconds(pid_t pid);

}  // namespace bnmlp::bench

#endif  // BNMLP_BENCH_LOAD_PROCESS_CPU_H_
