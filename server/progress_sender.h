// Sends a Train call's events from a thread of its own, so training never
// waits for its client.
//
// Why: on the synchronous API a ServerWriter::Write blocks until the client
// grants flow-control window. A client that stops reading would otherwise
// stall the training loop inside Write forever (holding its thread, its
// model copy and its request), and neither DeleteModel nor shutdown could
// end it. Here the training thread only queues; a sender thread writes.
// Mid-epoch progress coalesces (the newest replaces an unsent one), while
// epoch ends and the final summary are kept, in order, so a slow but
// reading client still sees exactly one epoch_end per epoch.
#ifndef BNMLP_SERVER_PROGRESS_SENDER_H_
#define BNMLP_SERVER_PROGRESS_SENDER_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "absl/time/time.h"
#include "bnmlp/v1/bnmlp.pb.h"

namespace bnmlp {

// Thread-safe. Uses std::mutex / std::condition_variable (visible to TSan);
// the mutex is held only to queue or take an event, never while writing.
class ProgressSender {
 public:
  // Writes one event to the client; false once the stream is broken (the
  // client went away or the call was cancelled). Called on the sender's
  // thread only, one call at a time; must stay callable until the sender
  // is destroyed.
  using WriteFn = std::function<bool(const v1::TrainResponse&)>;

  explicit ProgressSender(WriteFn write);
  // Stops the sender thread (after its current write returns) and joins it;
  // unsent events are dropped. To deliver them, Flush first.
  ~ProgressSender();
  ProgressSender(const ProgressSender&) = delete;
  ProgressSender& operator=(const ProgressSender&) = delete;

  // Queues `event` without blocking. A `progress` event replaces a `progress`
  // event still waiting at the end of the queue. Returns false once a write
  // has failed (the event is dropped then).
  bool Offer(v1::TrainResponse event);

  // Waits until every queued event was written (true), a write failed, or
  // `timeout` passed (false).
  bool Flush(absl::Duration timeout);

  // True once a write failed.
  bool broken() const;
  // Events waiting right now (tests, logs).
  size_t queued() const;

 private:
  void Run();

  const WriteFn write_;
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::deque<v1::TrainResponse> queue_;  // guarded by mu_
  bool writing_ = false;                 // guarded by mu_: a write is under way
  bool broken_ = false;                  // guarded by mu_
  bool stopping_ = false;                // guarded by mu_
  std::thread thread_;                   // last: starts after the fields
};

}  // namespace bnmlp

#endif  // BNMLP_SERVER_PROGRESS_SENDER_H_
