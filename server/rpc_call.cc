#include "server/rpc_call.h"

#include "absl/time/clock.h"
#include "server/event_log.h"
#include "server/status_conversion.h"

namespace bnmlp {

RpcCall::RpcCall(ActiveCalls& calls, absl::string_view method,
                 absl::string_view model)
    : active_(calls), method_(method), model_(model), start_(absl::Now()) {}

grpc::Status RpcCall::Finish(const absl::Status& status) {
  LogEvent(FormatRpcEvent(method_, model_, status, absl::Now() - start_));
  return ToGrpcStatus(status);
}

}  // namespace bnmlp
