#include "server/call_memory.h"

#include <algorithm>
#include <string>
#include <utility>

namespace bnmlp {

void CallMemoryHolds::Hold(const grpc::ServerContextBase& context,
                           MemoryBudget::Reservation memory) {
  WriterLock lock(&mu_);
  held_[&context].push_back(std::move(memory));
}

void CallMemoryHolds::Release(const grpc::ServerContextBase* context) {
  std::vector<MemoryBudget::Reservation> released;
  {
    WriterLock lock(&mu_);
    auto it = held_.find(context);
    if (it == held_.end()) return;
    released = std::move(it->second);
    held_.erase(it);
  }
}

size_t CallMemoryHolds::calls() const {
  ReaderLock lock(&mu_);
  return held_.size();
}

namespace {

// Lives as long as its call's ServerRpcInfo, which its ServerContext owns:
// destroyed once gRPC has finished with the call.
class ReleaseOnCallEnd final : public grpc::experimental::Interceptor {
 public:
  ReleaseOnCallEnd(std::shared_ptr<CallMemoryHolds> holds,
                   const grpc::ServerContextBase* context)
      : holds_(std::move(holds)), context_(context) {}
  ~ReleaseOnCallEnd() override { holds_->Release(context_); }

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    methods->Proceed();
  }

 private:
  const std::shared_ptr<CallMemoryHolds> holds_;
  const grpc::ServerContextBase* const context_;
};

class ReleaseOnCallEndFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  ReleaseOnCallEndFactory(std::shared_ptr<CallMemoryHolds> holds,
                          std::vector<std::string> methods)
      : holds_(std::move(holds)), methods_(std::move(methods)) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    if (std::find(methods_.begin(), methods_.end(), info->method()) ==
        methods_.end()) {
      return nullptr;
    }
    // gRPC takes ownership (ServerRpcInfo keeps it in a unique_ptr).
    return std::make_unique<ReleaseOnCallEnd>(holds_, info->server_context())
        .release();
  }

 private:
  const std::shared_ptr<CallMemoryHolds> holds_;
  const std::vector<std::string> methods_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
CallMemoryInterceptorFactory(std::shared_ptr<CallMemoryHolds> holds,
                             std::vector<std::string> methods) {
  return std::make_unique<ReleaseOnCallEndFactory>(std::move(holds),
                                                   std::move(methods));
}

}  // namespace bnmlp
