// The process's resource limits that a server facing many clients needs.
#ifndef BNMLP_SERVER_PROCESS_LIMITS_H_
#define BNMLP_SERVER_PROCESS_LIMITS_H_

#include <cstdint>

#include "absl/status/statusor.h"

namespace bnmlp {

struct DescriptorLimit {
  uint64_t soft = 0;  // what the process may open now
  uint64_t hard = 0;  // the most it could raise the soft limit to
};

// Raises the soft RLIMIT_NOFILE to the hard limit (distributions default
// to a soft 1024, which a few hundred idle clients exhaust; each gRPC
// connection holds a descriptor) and returns the limits now in force.
// Thread-compatible: call once at startup.
absl::StatusOr<DescriptorLimit> RaiseDescriptorLimitToHard();

}  // namespace bnmlp

#endif  // BNMLP_SERVER_PROCESS_LIMITS_H_
