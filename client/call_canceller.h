// Cancels a running RPC from any thread (e.g. a SIGINT watcher thread).
#ifndef BNMLP_CLIENT_CALL_CANCELLER_H_
#define BNMLP_CLIENT_CALL_CANCELLER_H_

#include <grpcpp/client_context.h>

#include "absl/base/thread_annotations.h"
#include "common/annotated_mutex.h"

namespace bnmlp::client {

// Lets one thread cancel the call another thread is blocked in. Cancel() is
// sticky: a call bound after Cancel() is cancelled as soon as it is bound.
//
// Thread safety: every method may be called concurrently from any thread.
// Not async-signal-safe: call Cancel() from a thread, not a signal handler.
class CallCanceller {
 public:
  CallCanceller() = default;
  CallCanceller(const CallCanceller&) = delete;
  CallCanceller& operator=(const CallCanceller&) = delete;

  // Cancels the bound call (grpc::ClientContext::TryCancel), if any, and
  // every call bound later.
  void Cancel();
  bool cancelled() const;

  // Binds `context` until the returned object goes out of scope. `context`
  // must outlive the binding. Used by BnmlpClient around streaming calls.
  class Binding {
   public:
    Binding(CallCanceller* canceller, grpc::ClientContext* context);
    ~Binding();
    Binding(const Binding&) = delete;
    Binding& operator=(const Binding&) = delete;

   private:
    CallCanceller* canceller_;  // May be null: nothing to bind to.
  };

 private:
  mutable AnnotatedMutex mu_;
  // The lock is held only while setting these fields or calling TryCancel,
  // which does not block, so the context cannot be unbound (and destroyed)
  // while it is being cancelled.
  grpc::ClientContext* context_ ABSL_GUARDED_BY(mu_) = nullptr;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace bnmlp::client

#endif  // BNMLP_CLIENT_CALL_CANCELLER_H_
