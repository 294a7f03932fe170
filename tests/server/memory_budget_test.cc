#include "server/memory_budget.h"

#include <utility>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bnmlp {
namespace {

using ::testing::HasSubstr;

TEST(MemoryBudgetTest, ReservationsCountUntilDestroyed) {
  std::shared_ptr<MemoryBudget> budget = MemoryBudget::Create(100, "--flag");
  {
    absl::StatusOr<MemoryBudget::Reservation> a = budget->Reserve(60, "a");
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(budget->used(), 60);
    const absl::StatusOr<MemoryBudget::Reservation> b =
        budget->Reserve(41, "dataset 'b'");
    EXPECT_EQ(b.status().code(), absl::StatusCode::kResourceExhausted);
    EXPECT_THAT(b.status().message(),
                HasSubstr("dataset 'b' needs 41 more bytes; 60 of the 100 "
                          "bytes allowed are in use (--flag)"));
    ASSERT_TRUE(a->Grow(40, "a").ok());
    EXPECT_EQ(a->bytes(), 100);
    EXPECT_FALSE(a->Grow(1, "a").ok());
    EXPECT_EQ(a->bytes(), 100);
    a->Shrink(30);
    EXPECT_EQ(budget->used(), 70);
    MemoryBudget::Reservation moved = *std::move(a);
    EXPECT_EQ(budget->used(), 70);
  }
  EXPECT_EQ(budget->used(), 0);
}

TEST(MemoryBudgetTest, AReservationMayOutliveItsOwnersHandle) {
  absl::StatusOr<MemoryBudget::Reservation> kept;
  {
    std::shared_ptr<MemoryBudget> budget = MemoryBudget::Create(10, "--flag");
    kept = budget->Reserve(5, "x");
    ASSERT_TRUE(kept.ok());
  }
  EXPECT_EQ(kept->bytes(), 5);  // the budget lives on inside it
}

TEST(MemoryBudgetTest, ASubBudgetTakesFromItsParentToo) {
  std::shared_ptr<MemoryBudget> process =
      MemoryBudget::Create(100, "--max_memory_bytes");
  std::shared_ptr<MemoryBudget> datasets =
      MemoryBudget::Create(50, "--max_dataset_bytes", process);
  absl::StatusOr<MemoryBudget::Reservation> other = process->Reserve(70, "x");
  ASSERT_TRUE(other.ok());
  // Within the sub-budget, beyond what the parent has left: refused by the
  // parent, and the sub-budget keeps nothing of it.
  absl::StatusOr<MemoryBudget::Reservation> refused =
      datasets->Reserve(40, "dataset 'd'");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(refused.status().message(),
              HasSubstr("70 of the 100 bytes allowed are in use "
                        "(--max_memory_bytes)"));
  EXPECT_EQ(datasets->used(), 0);
  EXPECT_EQ(process->used(), 70);
  // Beyond the sub-budget: refused by it, the parent untouched.
  EXPECT_THAT(datasets->Reserve(51, "dataset 'e'").status().message(),
              HasSubstr("(--max_dataset_bytes)"));
  EXPECT_EQ(process->used(), 70);
  {
    absl::StatusOr<MemoryBudget::Reservation> fits =
        datasets->Reserve(30, "dataset 'f'");
    ASSERT_TRUE(fits.ok());
    EXPECT_EQ(datasets->used(), 30);
    EXPECT_EQ(process->used(), 100);
    fits->Shrink(10);
    EXPECT_EQ(process->used(), 90);
  }
  EXPECT_EQ(datasets->used(), 0);
  EXPECT_EQ(process->used(), 70);
}

TEST(MemoryAccountsTest, EachKindCountsApartAndTheProcessBudgetDecides) {
  MemoryAccounts accounts = MemoryAccounts::Create(100);
  absl::StatusOr<MemoryBudget::Reservation> model =
      accounts.models->Reserve(60, "model 'm'");
  ASSERT_TRUE(model.ok());
  absl::StatusOr<MemoryBudget::Reservation> predict =
      accounts.serving->Reserve(30, "Predict");
  ASSERT_TRUE(predict.ok());
  EXPECT_EQ(accounts.models->used(), 60);
  EXPECT_EQ(accounts.serving->used(), 30);
  EXPECT_EQ(accounts.training->used(), 0);
  EXPECT_EQ(accounts.process->used(), 90);
  // Refused with the process's figures, whichever account asks.
  const absl::StatusOr<MemoryBudget::Reservation> train =
      accounts.training->Reserve(11, "Train of model 'm'");
  EXPECT_EQ(train.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(train.status().message(),
              HasSubstr("Train of model 'm' needs 11 more bytes; 90 of the "
                        "100 bytes allowed are in use (--max_memory_bytes)"));
  EXPECT_EQ(accounts.training->used(), 0);
  *predict = MemoryBudget::Reservation();
  EXPECT_EQ(accounts.serving->used(), 0);
  EXPECT_EQ(accounts.process->used(), 60);
}

}  // namespace
}  // namespace bnmlp
