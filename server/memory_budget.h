// A byte budget that requests reserve against before they allocate (the
// process's --max_memory_bytes; --max_dataset_bytes for uploaded datasets,
// nested in it), so what does not fit is refused with the figures instead of
// exhausting the machine.
#ifndef BNMLP_SERVER_MEMORY_BUDGET_H_
#define BNMLP_SERVER_MEMORY_BUDGET_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/annotated_mutex.h"

namespace bnmlp {

// Thread-safe. Held by shared_ptr: every Reservation keeps its budget alive,
// so memory may be released after its owner (a registry) is gone.
class MemoryBudget : public std::enable_shared_from_this<MemoryBudget> {
 public:
  // Bytes reserved from a budget, given back on destruction. Move-only; not
  // thread-safe (one owner).
  class Reservation {
   public:
    Reservation() = default;
    Reservation(Reservation&& other) noexcept;
    Reservation& operator=(Reservation&& other) noexcept;
    ~Reservation();

    int64_t bytes() const { return bytes_; }
    // Reserves `bytes` more: RESOURCE_EXHAUSTED (see MemoryBudget::Reserve)
    // leaves the reservation as it was. An empty Reservation (default
    // constructed) cannot grow: FAILED_PRECONDITION.
    absl::Status Grow(int64_t bytes, absl::string_view what);
    // Gives `bytes` (at most bytes()) back.
    void Shrink(int64_t bytes);

   private:
    friend class MemoryBudget;
    Reservation(std::shared_ptr<MemoryBudget> budget, int64_t bytes)
        : budget_(std::move(budget)), bytes_(bytes) {}

    std::shared_ptr<MemoryBudget> budget_;
    int64_t bytes_ = 0;
  };

  // `limit` bytes in all; `flag` names the limit in messages
  // ("--max_dataset_bytes"). With a `parent`, every reservation also takes
  // its bytes from the parent (a sub-budget: datasets within the process's
  // budget), and is refused when either has no room.
  static std::shared_ptr<MemoryBudget> Create(
      int64_t limit, std::string flag,
      std::shared_ptr<MemoryBudget> parent = nullptr);
  // An account of `parent`: a sub-budget with no limit of its own, so one
  // kind of use can be counted apart. Its reservations are refused only when
  // the parent has no room, with the parent's figures and flag.
  static std::shared_ptr<MemoryBudget> CreateAccount(
      std::shared_ptr<MemoryBudget> parent);

  // `bytes` (>= 0) for `what` (e.g. "dataset 'fmnist'"), or
  // RESOURCE_EXHAUSTED with the figures: what it needs, what is in use,
  // the limit and its flag.
  absl::StatusOr<Reservation> Reserve(int64_t bytes, absl::string_view what);

  int64_t limit() const { return limit_; }
  int64_t used() const;

 private:
  MemoryBudget(int64_t limit, std::string flag,
               std::shared_ptr<MemoryBudget> parent)
      : limit_(limit), flag_(std::move(flag)), parent_(std::move(parent)) {}
  // Takes from this budget, then from the parent (undone if it refuses).
  absl::Status Take(int64_t bytes, absl::string_view what);
  absl::Status TakeOwn(int64_t bytes, absl::string_view what);
  void Give(int64_t bytes);

  const int64_t limit_;
  const std::string flag_;
  const std::shared_ptr<MemoryBudget> parent_;  // may be null
  // Held only to read or update used_.
  mutable AnnotatedMutex mu_;
  int64_t used_ ABSL_GUARDED_BY(mu_) = 0;
};

// The process's budget (--max_memory_bytes) and its accounts by what holds
// the memory, reported as bnmlp_memory_bytes{kind}. (Datasets have their own
// sub-budget, --max_dataset_bytes: DatasetRegistry.)
struct MemoryAccounts {
  // A process budget of `limit` bytes and an account of it per kind.
  static MemoryAccounts Create(int64_t limit);

  std::shared_ptr<MemoryBudget> process;
  std::shared_ptr<MemoryBudget> server;    // the process's own baseline
  std::shared_ptr<MemoryBudget> models;    // registered models and versions
  std::shared_ptr<MemoryBudget> training;  // Train runs' workspaces
  // Predict's and GetParameters' workspaces and responses.
  std::shared_ptr<MemoryBudget> serving;
};

}  // namespace bnmlp

#endif  // BNMLP_SERVER_MEMORY_BUDGET_H_
