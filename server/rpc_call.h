// What every BnMlpService handler does around its work, written once: counts
// the call as active (for graceful shutdown), gives it a request id, admits
// it (authentication and authorization, when configured), times it, logs its
// one line (level, method, request id, peer, model, status code, duration,
// error message), tells the observers (metrics), and converts its
// absl::Status for gRPC.
//
//   grpc::Status Service::GetModel(grpc::ServerContext* context, ...) {
//     return ServeCall(rpc_, *context, "GetModel", request->name(),
//                      [&] { return DoGetModel(*request, response); });
//   }
#ifndef BNMLP_SERVER_RPC_CALL_H_
#define BNMLP_SERVER_RPC_CALL_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/status.h"
#include "server/active_calls.h"

namespace bnmlp {

// One finished call, as observers see it. The views are valid during
// OnFinished only.
struct RpcOutcome {
  absl::string_view method;      // "Predict"
  absl::string_view model;       // the model (or dataset) it named, or ""
  absl::string_view request_id;  // unique within the process
  absl::string_view peer;        // "ipv4:127.0.0.1:53422"
  const absl::Status& status;
  absl::Duration elapsed;
  // Who the admission found the caller to be ("writer:1a2b3c4d"), or "".
  absl::string_view caller = {};
};

// Decides whether a call may run, before its work starts (e.g. bearer
// tokens and roles). Must be thread-safe.
class RpcAdmission {
 public:
  virtual ~RpcAdmission() = default;
  // OK to let `method` run; otherwise the status the call ends with
  // (UNAUTHENTICATED, PERMISSION_DENIED, ...). Sets `*caller` to a name for
  // the caller that is safe to log (a role and a fingerprint, never a
  // secret) when it knows one, also when it refuses the call.
  virtual absl::Status Admit(const grpc::ServerContextBase& context,
                             absl::string_view method,
                             std::string* caller) const = 0;
};

// Learns of every finished call (e.g. Prometheus metrics). Must be
// thread-safe and quick: it runs on the call's thread.
class RpcObserver {
 public:
  virtual ~RpcObserver() = default;
  virtual void OnFinished(const RpcOutcome& outcome) = 0;
};

// What calls share: the active-call count, the admission policy and the
// observers. Configure (SetAdmission, AddObserver) before the server
// starts; afterwards everything is read-only and thread-safe.
class RpcEnvironment {
 public:
  ActiveCalls& active_calls() { return active_calls_; }
  const ActiveCalls& active_calls() const { return active_calls_; }

  void SetAdmission(std::shared_ptr<const RpcAdmission> admission) {
    admission_ = std::move(admission);
  }
  void AddObserver(std::shared_ptr<RpcObserver> observer) {
    observers_.push_back(std::move(observer));
  }

  const RpcAdmission* admission() const { return admission_.get(); }
  const std::vector<std::shared_ptr<RpcObserver>>& observers() const {
    return observers_;
  }

 private:
  ActiveCalls active_calls_;
  std::shared_ptr<const RpcAdmission> admission_;
  std::vector<std::shared_ptr<RpcObserver>> observers_;
};

// One call in progress, from construction to Finish. Not thread-safe (one
// per handler invocation).
class RpcCall {
 public:
  // `environment` must outlive this; `model` names the model (or dataset)
  // the call is about ("" if none).
  RpcCall(RpcEnvironment& environment, const grpc::ServerContextBase& context,
          absl::string_view method, absl::string_view model);
  RpcCall(const RpcCall&) = delete;
  RpcCall& operator=(const RpcCall&) = delete;

  // OK if the call may run (see RpcAdmission). Call once.
  absl::Status Admit();
  // Logs the call's line, tells the observers and returns `status` for
  // gRPC. Call once.
  grpc::Status Finish(const absl::Status& status);

  const std::string& request_id() const { return request_id_; }

 private:
  RpcEnvironment& environment_;
  ActiveCalls::Scope active_;
  const grpc::ServerContextBase& context_;
  const absl::string_view method_;
  const std::string model_;
  const std::string request_id_;
  const absl::Time start_;
  std::string caller_;  // set by Admit
};

// Runs `work` (a callable returning absl::Status) as one RpcCall, if it is
// admitted.
template <typename Work>
grpc::Status ServeCall(RpcEnvironment& environment,
                       const grpc::ServerContextBase& context,
                       absl::string_view method, absl::string_view model,
                       Work&& work) {
  RpcCall call(environment, context, method, model);
  if (absl::Status admitted = call.Admit(); !admitted.ok()) {
    return call.Finish(admitted);
  }
  return call.Finish(std::forward<Work>(work)());
}

}  // namespace bnmlp

#endif  // BNMLP_SERVER_RPC_CALL_H_
