// Memory a call keeps until gRPC is done with it. A unary handler's response
// (and gRPC's serialized copy of it) outlives the handler: gRPC sends it
// after the handler returns. So a reservation for it is handed to
// CallMemoryHolds and given back only when the call's ServerContext goes,
// which an interceptor (CallMemoryInterceptorFactory) reports.
#ifndef BNMLP_SERVER_CALL_MEMORY_H_
#define BNMLP_SERVER_CALL_MEMORY_H_

#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "common/annotated_mutex.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/server_interceptor.h"
#include "server/memory_budget.h"

namespace bnmlp {

// Thread-safe.
class CallMemoryHolds {
 public:
  // Keeps `memory` until Release(&context). Without an interceptor
  // installed (no CallMemoryInterceptorFactory on the server), callers must
  // not hold: the memory would never be given back.
  void Hold(const grpc::ServerContextBase& context,
            MemoryBudget::Reservation memory);
  // Gives back what calls with this context held (nothing if none).
  void Release(const grpc::ServerContextBase* context);
  // Calls holding memory now.
  size_t calls() const;

 private:
  // Held only to update the map; reservations are destroyed outside it.
  mutable AnnotatedMutex mu_;
  absl::flat_hash_map<const grpc::ServerContextBase*,
                      std::vector<MemoryBudget::Reservation>>
      held_ ABSL_GUARDED_BY(mu_);
};

// An interceptor on every call to `methods` (full names, e.g.
// "/bnmlp.v1.BnMlpService/Predict") that calls holds->Release when the call
// ends, after its response has been sent (or the call failed).
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
CallMemoryInterceptorFactory(std::shared_ptr<CallMemoryHolds> holds,
                             std::vector<std::string> methods);

}  // namespace bnmlp

#endif  // BNMLP_SERVER_CALL_MEMORY_H_
