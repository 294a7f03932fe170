#include "server/process_limits.h"

#include <sys/resource.h>

#include <cerrno>

#include "absl/status/status.h"

namespace bnmlp {

absl::StatusOr<DescriptorLimit> RaiseDescriptorLimitToHard() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return absl::ErrnoToStatus(errno, "getrlimit(RLIMIT_NOFILE)");
  }
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) != 0) {
      return absl::ErrnoToStatus(errno, "setrlimit(RLIMIT_NOFILE)");
    }
    limit = raised;
  }
  return DescriptorLimit{static_cast<uint64_t>(limit.rlim_cur),
                         static_cast<uint64_t>(limit.rlim_max)};
}

}  // namespace bnmlp
