#include "server/compute_slots.h"

#include <algorithm>

namespace bnmlp {

ComputeSlots::ComputeSlots(int slots)
    : capacity_(std::max(slots, 1)), free_(capacity_) {}

std::optional<ComputeSlots::Slot> ComputeSlots::Acquire(
    Clock::time_point deadline, const std::function<bool()>& cancelled) {
  std::unique_lock<std::mutex> lock(mu_);
  while (free_ == 0) {
    if (cancelled && cancelled()) return std::nullopt;
    const Clock::time_point now = Clock::now();
    if (now >= deadline) return std::nullopt;
    // Waking at least every poll interval also keeps wait_until away from
    // time_point::max(), which overflows in some libstdc++ versions.
    freed_.wait_until(lock, deadline - now > kCancelPollInterval
                                ? now + kCancelPollInterval
                                : deadline);
  }
  --free_;
  return Slot(this);
}

int ComputeSlots::in_use() const {
  std::lock_guard<std::mutex> lock(mu_);
  return capacity_ - free_;
}

void ComputeSlots::Release() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++free_;
  }
  freed_.notify_one();
}

}  // namespace bnmlp
