#include "client/call_canceller.h"

namespace bnmlp::client {

void CallCanceller::Cancel() {
  WriterLock lock(&mu_);
  cancelled_ = true;
  if (context_ != nullptr) context_->TryCancel();
}

bool CallCanceller::cancelled() const {
  WriterLock lock(&mu_);
  return cancelled_;
}

CallCanceller::Binding::Binding(CallCanceller* canceller,
                                grpc::ClientContext* context)
    : canceller_(canceller) {
  if (canceller_ == nullptr) return;
  WriterLock lock(&canceller_->mu_);
  canceller_->context_ = context;
  // TryCancel before the call starts makes the call fail as it starts.
  if (canceller_->cancelled_) context->TryCancel();
}

CallCanceller::Binding::~Binding() {
  if (canceller_ == nullptr) return;
  WriterLock lock(&canceller_->mu_);
  canceller_->context_ = nullptr;
}

}  // namespace bnmlp::client
