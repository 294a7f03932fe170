#include "server/rpc_call.h"

#include "absl/time/clock.h"
#include "server/event_log.h"
#include "server/status_conversion.h"

namespace bnmlp {
namespace {
constexpr size_t kLoggedNameLength = 64;
}  // namespace

RpcCall::RpcCall(ActiveCalls& calls, absl::string_view method,
                 absl::string_view model)
    : active_(calls),
      method_(method),
      // The log line shows at most this much of a (possibly hostile) name.
      model_(model.substr(0, kLoggedNameLength)),
      start_(absl::Now()) {}

grpc::Status RpcCall::Finish(const absl::Status& status) {
  LogEvent(FormatRpcEvent(method_, model_, status, absl::Now() - start_));
  return ToGrpcStatus(status);
}

}  // namespace bnmlp
