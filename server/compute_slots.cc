#include "server/compute_slots.h"

#include <algorithm>

namespace bnmlp {

ComputeSlots::ComputeSlots(int slots)
    : capacity_(std::max(slots, 1)), free_(capacity_) {}

std::optional<ComputeSlots::Slot> ComputeSlots::Acquire(
    Clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  const auto slot_free = [this] { return free_ > 0; };
  if (deadline == Clock::time_point::max()) {
    // wait_until(max) overflows converting to the condition variable's
    // clock in some libstdc++ versions.
    freed_.wait(lock, slot_free);
  } else if (!freed_.wait_until(lock, deadline, slot_free)) {
    return std::nullopt;
  }
  --free_;
  return Slot(this);
}

int ComputeSlots::in_use() {
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
