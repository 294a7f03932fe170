// Threads for the blocking part of callback-API calls.
//
// Why: a gRPC callback handler runs on one of gRPC's few event threads and
// must not block it, but a large Predict may wait for a compute slot
// (server/compute_slots.h) and then compute for milliseconds. Run gives
// such work a thread of its own, as the synchronous server did for every
// call: an idle thread if one waits, else a new one. Threads beyond
// `max_idle` idle ones exit when their work is done, so a burst leaves no
// crowd of threads behind.
#ifndef BNMLP_SERVER_CALL_THREADS_H_
#define BNMLP_SERVER_CALL_THREADS_H_

#include <condition_variable>
#include <deque>
#include <list>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/functional/any_invocable.h"

namespace bnmlp {

// Thread-safe. Uses std::mutex / std::condition_variable (visible to TSan;
// common/annotated_mutex.h); the mutex is held only to hand work over,
// never while work runs.
class CallThreads {
 public:
  explicit CallThreads(int max_idle);
  // Runs the work already handed over, then joins every thread.
  ~CallThreads();
  CallThreads(const CallThreads&) = delete;
  CallThreads& operator=(const CallThreads&) = delete;

  // Runs `work` soon on a thread that runs nothing else meanwhile.
  void Run(absl::AnyInvocable<void() &&> work);

  // Threads alive right now, and how many of them wait for work (tests).
  int threads() const;
  int idle_threads() const;

 private:
  void Loop();
  // Moves the threads that exited out of threads_, to be joined.
  std::vector<std::thread> TakeExited();

  const int max_idle_;
  mutable std::mutex mu_;
  std::condition_variable work_ready_;
  std::deque<absl::AnyInvocable<void() &&>> work_;  // guarded by mu_
  int idle_ = 0;                    // threads waiting for work; guarded by mu_
  bool stopping_ = false;           // guarded by mu_
  std::list<std::thread> threads_;  // guarded by mu_
  std::vector<std::thread::id> exited_;  // guarded by mu_
};

}  // namespace bnmlp

#endif  // BNMLP_SERVER_CALL_THREADS_H_
