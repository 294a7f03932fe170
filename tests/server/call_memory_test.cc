#include "server/call_memory.h"

#include <memory>

#include "grpcpp/server_context.h"
#include "gtest/gtest.h"
#include "server/memory_budget.h"

namespace bnmlp::testing {
namespace {

TEST(CallMemoryHoldsTest, HeldUntilTheCallIsReleased) {
  std::shared_ptr<MemoryBudget> budget =
      MemoryBudget::Create(100, "--max_memory_bytes");
  CallMemoryHolds holds;
  grpc::ServerContext call, other;
  holds.Hold(call, *budget->Reserve(30, "a"));
  holds.Hold(call, *budget->Reserve(20, "b"));
  holds.Hold(other, *budget->Reserve(10, "c"));
  EXPECT_EQ(holds.calls(), 2u);
  EXPECT_EQ(budget->used(), 60);
  holds.Release(&call);
  EXPECT_EQ(budget->used(), 10);
  holds.Release(&call);  // nothing left: no-op
  EXPECT_EQ(budget->used(), 10);
  holds.Release(&other);
  EXPECT_EQ(budget->used(), 0);
  EXPECT_EQ(holds.calls(), 0u);
}

}  // namespace
}  // namespace bnmlp::testing
