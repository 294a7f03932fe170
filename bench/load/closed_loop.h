// A closed-loop load generator on gRPC's callback client API: `in_flight`
// slots each keep one call outstanding, issuing the next from the previous
// one's completion, so the generator needs no threads of its own.
#ifndef BNMLP_BENCH_LOAD_CLOSED_LOOP_H_
#define BNMLP_BENCH_LOAD_CLOSED_LOOP_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/status.h"

namespace bnmlp::bench {

// Starts one asynchronous call for `slot` on `context` (fresh per call) and
// arranges for `done` to run when it completes. Calls of one slot never
// overlap, so per-slot response buffers may be reused.
using IssueCall = std::function<void(int slot, grpc::ClientContext* context,
                                     std::function<void(grpc::Status)> done)>;

struct LoadResult {
  int64_t completed = 0;  // successful calls within the measured window
  int64_t failed = 0;
  std::string first_error;
  double seconds = 0;                 // the measured window
  std::vector<double> latencies_us;   // of the successful calls, sorted
  double Percentile(double p) const;  // p in [0, 100]; 0 if no calls
  double Throughput() const { return seconds > 0 ? completed / seconds : 0; }
};

// Runs `warmup` unmeasured, then measures for `duration`. `on_window` is
// called at the start and the end of the measured window (e.g. to sample
// CPU time). Returns after every outstanding call has completed.
LoadResult RunClosedLoop(int in_flight, absl::Duration warmup,
                         absl::Duration duration, const IssueCall& issue,
                         const std::function<void()>& on_window_start,
                         const std::function<void()>& on_window_end);

}  // namespace bnmlp::bench

#endif  // BNMLP_BENCH_LOAD_CLOSED_LOOP_H_
