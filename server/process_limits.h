// The process's resource limits that a server facing many clients needs.
#ifndef BNMLP_SERVER_PROCESS_LIMITS_H_
#define BNMLP_SERVER_PROCESS_LIMITS_H_

#include <cstdint>
#include <string>

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

// Makes the allocator (glibc) serve every block of `mmap_bytes` or more with
// its own mapping, given back to the system when freed, instead of raising
// that threshold as big blocks come and go (up to 32 MiB) and keeping freed
// blocks resident: a Train's freed batch workspaces would otherwise stay in
// the RSS, outside --max_memory_bytes. Below that, up to `kept_top_bytes`
// freed at the top of each heap stay mapped for the next call (the default,
// 128 KiB, made every batch-256 Predict fault its ~2 MiB of request buffers
// in anew: 1.5x its time; main.cc says why it keeps 16 MiB). Call once at
// startup, before threads.
void ReturnLargeBlocksToTheSystem(int mmap_bytes, int kept_top_bytes);

// The memory this process may use: the least of `physical_bytes` and the
// memory limit of its control group found under `cgroup_root` (v2:
// memory.max; v1: memory/memory.limit_in_bytes). A missing or unreadable
// file, "max", or a v1 "no limit" (a value beyond physical_bytes) leaves
// physical_bytes. Thread-safe.
int64_t MemoryLimitBytes(int64_t physical_bytes,
                         const std::string& cgroup_root);

// The machine's physical memory (sysconf).
int64_t PhysicalMemoryBytes();

// --max_memory_bytes' default: 80% of MemoryLimitBytes(PhysicalMemoryBytes(),
// "/sys/fs/cgroup") (the rest is for what is not counted: code, gRPC's
// buffers, the allocator's slack).
int64_t DefaultMaxMemoryBytes();

}  // namespace bnmlp

#endif  // BNMLP_SERVER_PROCESS_LIMITS_H_
