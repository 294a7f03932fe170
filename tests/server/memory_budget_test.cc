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

}  // namespace
}  // namespace bnmlp
