// What every BnMlpService handler does around its work, written once:
// counts the call as active (for graceful shutdown), times it, logs its one
// line (method, model, status code, duration, error message) and converts
// its absl::Status for gRPC.
//
//   grpc::Status Service::GetModel(grpc::ServerContext* context, ...) {
//     return ServeCall(calls_, "GetModel", request->name(),
//                      [&] { return DoGetModel(*request, response); });
//   }
#ifndef BNMLP_SERVER_RPC_CALL_H_
#define BNMLP_SERVER_RPC_CALL_H_

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "grpcpp/support/status.h"
#include "server/active_calls.h"

namespace bnmlp {

// One call in progress, from construction to Finish. Not thread-safe (one
// per handler invocation).
class RpcCall {
 public:
  // `calls` must outlive this; `model` names the model the call is about
  // ("" if none) in the log line.
  RpcCall(ActiveCalls& calls, absl::string_view method,
          absl::string_view model);
  RpcCall(const RpcCall&) = delete;
  RpcCall& operator=(const RpcCall&) = delete;

  // Logs the call's line and returns `status` for gRPC. Call once.
  grpc::Status Finish(const absl::Status& status);

 private:
  ActiveCalls::Scope active_;
  const absl::string_view method_;
  const std::string model_;
  const absl::Time start_;
};

// Runs `work` (a callable returning absl::Status) as one RpcCall.
template <typename Work>
grpc::Status ServeCall(ActiveCalls& calls, absl::string_view method,
                       absl::string_view model, Work&& work) {
  RpcCall call(calls, method, model);
  return call.Finish(std::forward<Work>(work)());
}

}  // namespace bnmlp

#endif  // BNMLP_SERVER_RPC_CALL_H_
