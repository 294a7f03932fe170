#include "server/rpc_call.h"

#include <atomic>
#include <cstdint>

#include "absl/random/random.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "server/event_log.h"
#include "server/status_conversion.h"

namespace bnmlp {
namespace {

// The log line shows at most this much of a (possibly hostile) name.
constexpr size_t kLoggedNameLength = 64;

// "5f3a09c1-000000000042": a per-process random prefix (so ids from restarts
// or replicas do not collide in aggregated logs) and a counter.
std::string NextRequestId() {
  static const uint32_t prefix = [] {
    absl::BitGen bits;
    return absl::Uniform<uint32_t>(bits);
  }();
  static std::atomic<uint64_t> counter{0};
  return absl::StrFormat("%08x-%012d", prefix, counter.fetch_add(1) + 1);
}

}  // namespace

RpcCall::RpcCall(RpcEnvironment& environment,
                 const grpc::ServerContextBase& context,
                 absl::string_view method, absl::string_view model)
    : environment_(environment),
      active_(environment.active_calls()),
      context_(context),
      method_(method),
      model_(model.substr(0, kLoggedNameLength)),
      request_id_(NextRequestId()),
      start_(absl::Now()) {}

absl::Status RpcCall::Admit() {
  const RpcAdmission* admission = environment_.admission();
  return admission == nullptr ? absl::OkStatus()
                              : admission->Admit(context_, method_, &caller_);
}

grpc::Status RpcCall::Finish(const absl::Status& status) {
  const absl::Duration elapsed = absl::Now() - start_;
  const std::string peer = context_.peer();
  LogEvent(LevelOf(status.code()),
           FormatRpcEvent(method_, request_id_, peer, model_, status, elapsed,
                          caller_));
  const RpcOutcome outcome{method_, model_,  request_id_, peer,
                           status,  elapsed, caller_};
  for (const std::shared_ptr<RpcObserver>& observer :
       environment_.observers()) {
    observer->OnFinished(outcome);
  }
  return ToGrpcStatus(status);
}

}  // namespace bnmlp
