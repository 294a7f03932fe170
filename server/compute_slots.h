// Bounds how many large computations (Predict batches) run at once.
//
// Why: the synchronous server runs every call on its own thread, so 64
// concurrent batch-64 Predicts were 64 threads multiplying matrices on two
// cores. They evicted each other's caches, and only one at a time could
// split its products over the compute pool (the rest ran single-threaded),
// so throughput halved under load (bench/README.md, "Predict latency").
// Holding the excess callers asleep here until a slot frees keeps the cores
// on as many computations as they can run well.
#ifndef BNMLP_SERVER_COMPUTE_SLOTS_H_
#define BNMLP_SERVER_COMPUTE_SLOTS_H_

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>

namespace bnmlp {

// Thread-safe. Uses std::mutex / std::condition_variable, which
// ThreadSanitizer sees (Debian's prebuilt absl::Mutex waits are invisible to
// it; common/annotated_mutex.h). The mutex is held only to take or return a
// slot and to poll a waiter's `cancelled`; never while a holder computes.
class ComputeSlots {
 public:
  using Clock = std::chrono::system_clock;  // gRPC deadlines' clock

  // A held slot, returned when the Slot is destroyed. Movable.
  class Slot {
   public:
    Slot(Slot&& other) noexcept : slots_(other.slots_) {
      other.slots_ = nullptr;
    }
    Slot& operator=(Slot&& other) noexcept {
      if (this != &other) {
        if (slots_ != nullptr) slots_->Release();
        slots_ = other.slots_;
        other.slots_ = nullptr;
      }
      return *this;
    }
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    ~Slot() {
      if (slots_ != nullptr) slots_->Release();
    }

   private:
    friend class ComputeSlots;
    explicit Slot(ComputeSlots* slots) : slots_(slots) {}
    ComputeSlots* slots_;
  };

  // `slots` >= 1: how many holders may run at once.
  explicit ComputeSlots(int slots);
  ComputeSlots(const ComputeSlots&) = delete;
  ComputeSlots& operator=(const ComputeSlots&) = delete;

  // Waits until a slot is free and takes it, or returns nullopt once
  // `deadline` has passed without one (Clock::time_point::max() waits for
  // as long as it takes) or `cancelled` (if given; polled every
  // kCancelPollInterval while waiting, under the internal mutex, so it must
  // be quick and must not call back into this object) returns true. Waiters
  // are woken one per freed slot.
  std::optional<Slot> Acquire(Clock::time_point deadline,
                              const std::function<bool()>& cancelled = {});

  static constexpr std::chrono::milliseconds kCancelPollInterval{20};

  int capacity() const { return capacity_; }
  // Slots held right now (a snapshot, for logs and tests).
  int in_use() const;

 private:
  void Release();

  const int capacity_;
  mutable std::mutex mu_;
  std::condition_variable freed_;
  int free_;  // guarded by mu_
};

}  // namespace bnmlp

#endif  // BNMLP_SERVER_COMPUTE_SLOTS_H_
