// Counts the service's calls in progress, so a graceful shutdown can tell
// when the last one has finished instead of always waiting out its grace
// period (gRPC itself also waits for idle client connections to close).
#ifndef BNMLP_SERVER_ACTIVE_CALLS_H_
#define BNMLP_SERVER_ACTIVE_CALLS_H_

#include <atomic>

#include "absl/time/time.h"

namespace bnmlp {

// Thread-safe.
class ActiveCalls {
 public:
  // Counts one call for its lifetime.
  class Scope {
   public:
    explicit Scope(ActiveCalls& calls) : calls_(calls) { ++calls_.count_; }
    ~Scope() { --calls_.count_; }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    ActiveCalls& calls_;
  };

  int count() const { return count_.load(); }

  // True once no call is in progress; false if `deadline` passes first.
  // Polls: shutdown is rare and this keeps the hot path a single atomic.
  bool WaitUntilIdle(absl::Time deadline) const;

 private:
  std::atomic<int> count_{0};
};

}  // namespace bnmlp

#endif  // BNMLP_SERVER_ACTIVE_CALLS_H_
