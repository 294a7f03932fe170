#include "server/process_limits.h"

#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"

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

namespace {

// The number in `path` (a cgroup limit file); nullopt for "max", a missing
// file or anything else.
std::optional<int64_t> ReadLimitFile(const std::string& path) {
  std::ifstream file(path);
  std::string text;
  if (!std::getline(file, text)) return std::nullopt;
  int64_t value = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &value) ||
      value <= 0) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

void ReturnLargeBlocksToTheSystem(int mmap_bytes, int kept_top_bytes) {
  mallopt(M_MMAP_THRESHOLD, mmap_bytes);  // fixed: no dynamic adjustment
  mallopt(M_TRIM_THRESHOLD, kept_top_bytes);
}

int64_t MemoryLimitBytes(int64_t physical_bytes,
                         const std::string& cgroup_root) {
  int64_t limit = physical_bytes;
  for (const char* file : {"/memory.max", "/memory/memory.limit_in_bytes"}) {
    if (std::optional<int64_t> value = ReadLimitFile(cgroup_root + file)) {
      limit = std::min(limit, *value);
    }
  }
  return limit;
}

int64_t PhysicalMemoryBytes() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page_size = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page_size <= 0) return int64_t{1} << 30;  // unknown: 1 GiB
  return static_cast<int64_t>(pages) * page_size;
}

int64_t DefaultMaxMemoryBytes() {
  return MemoryLimitBytes(PhysicalMemoryBytes(), "/sys/fs/cgroup") / 10 * 8;
}

}  // namespace bnmlp
