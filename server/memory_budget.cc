#include "server/memory_budget.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace bnmlp {

MemoryBudget::Reservation::Reservation(Reservation&& other) noexcept
    : budget_(std::move(other.budget_)),
      bytes_(std::exchange(other.bytes_, 0)) {}

MemoryBudget::Reservation& MemoryBudget::Reservation::operator=(
    Reservation&& other) noexcept {
  if (this != &other) {
    if (budget_ != nullptr) budget_->Give(bytes_);
    budget_ = std::move(other.budget_);
    bytes_ = std::exchange(other.bytes_, 0);
  }
  return *this;
}

MemoryBudget::Reservation::~Reservation() {
  if (budget_ != nullptr) budget_->Give(bytes_);
}

absl::Status MemoryBudget::Reservation::Grow(int64_t bytes,
                                             absl::string_view what) {
  if (budget_ == nullptr) {
    return absl::FailedPreconditionError(
        "an empty memory reservation cannot grow");
  }
  BNMLP_RETURN_IF_ERROR(budget_->Take(bytes, what));
  bytes_ += bytes;
  return absl::OkStatus();
}

void MemoryBudget::Reservation::Shrink(int64_t bytes) {
  if (budget_ == nullptr) return;
  const int64_t given = std::min(bytes, bytes_);
  budget_->Give(given);
  bytes_ -= given;
}

std::shared_ptr<MemoryBudget> MemoryBudget::Create(
    int64_t limit, std::string flag, std::shared_ptr<MemoryBudget> parent) {
  return std::shared_ptr<MemoryBudget>(
      new MemoryBudget(limit, std::move(flag), std::move(parent)));
}

std::shared_ptr<MemoryBudget> MemoryBudget::CreateAccount(
    std::shared_ptr<MemoryBudget> parent) {
  std::string flag = parent->flag_;
  return Create(std::numeric_limits<int64_t>::max(), std::move(flag),
                std::move(parent));
}

absl::StatusOr<MemoryBudget::Reservation> MemoryBudget::Reserve(
    int64_t bytes, absl::string_view what) {
  BNMLP_RETURN_IF_ERROR(Take(bytes, what));
  return Reservation(shared_from_this(), bytes);
}

int64_t MemoryBudget::used() const {
  ReaderLock lock(&mu_);
  return used_;
}

absl::Status MemoryBudget::Take(int64_t bytes, absl::string_view what) {
  BNMLP_RETURN_IF_ERROR(TakeOwn(bytes, what));
  if (parent_ == nullptr) return absl::OkStatus();
  // Not under mu_: each budget's lock guards only its own figure.
  absl::Status taken = parent_->Take(bytes, what);
  if (!taken.ok()) {
    WriterLock lock(&mu_);
    used_ -= bytes;
  }
  return taken;
}

absl::Status MemoryBudget::TakeOwn(int64_t bytes, absl::string_view what) {
  if (bytes < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot reserve a negative size (", bytes, " bytes)"));
  }
  WriterLock lock(&mu_);
  if (bytes <= limit_ - used_) {
    used_ += bytes;
    return absl::OkStatus();
  }
  return absl::ResourceExhaustedError(
      absl::StrCat(what, " needs ", bytes, " more bytes; ", used_, " of the ",
                   limit_, " bytes allowed are in use (", flag_, ")"));
}

void MemoryBudget::Give(int64_t bytes) {
  {
    WriterLock lock(&mu_);
    used_ -= bytes;
  }
  if (parent_ != nullptr) parent_->Give(bytes);
}

MemoryAccounts MemoryAccounts::Create(int64_t limit) {
  MemoryAccounts accounts;
  accounts.process = MemoryBudget::Create(limit, "--max_memory_bytes");
  accounts.server = MemoryBudget::CreateAccount(accounts.process);
  accounts.models = MemoryBudget::CreateAccount(accounts.process);
  accounts.training = MemoryBudget::CreateAccount(accounts.process);
  accounts.serving = MemoryBudget::CreateAccount(accounts.process);
  return accounts;
}

}  // namespace bnmlp
