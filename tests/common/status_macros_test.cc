#include "common/status_macros.h"

#include <memory>
#include <string>

#include "gtest/gtest.h"

namespace bnmlp {
namespace {

int evaluations = 0;

absl::Status Counted(absl::Status status) {
  ++evaluations;
  return status;
}

absl::StatusOr<std::unique_ptr<int>> MakeInt(bool ok, int value) {
  ++evaluations;
  if (!ok) return absl::NotFoundError("no int");
  return std::make_unique<int>(value);
}

absl::Status ReturnIfError(absl::Status first, bool* reached_end) {
  BNMLP_RETURN_IF_ERROR(Counted(first));
  *reached_end = true;
  return absl::OkStatus();
}

absl::StatusOr<int> AssignOrReturn(bool ok) {
  // A move-only value: the macro must move, not copy, out of the StatusOr.
  BNMLP_ASSIGN_OR_RETURN(std::unique_ptr<int> value, MakeInt(ok, 41));
  return *value + 1;
}

absl::StatusOr<int> AssignTwiceToExisting() {
  int sum = 0;
  std::unique_ptr<int> value;
  BNMLP_ASSIGN_OR_RETURN(value, MakeInt(true, 2));
  sum += *value;
  BNMLP_ASSIGN_OR_RETURN(value, MakeInt(true, 3));
  return sum + *value;
}

TEST(StatusMacrosTest, ReturnIfErrorPassesOkThroughAndEvaluatesOnce) {
  evaluations = 0;
  bool reached_end = false;
  EXPECT_TRUE(ReturnIfError(absl::OkStatus(), &reached_end).ok());
  EXPECT_TRUE(reached_end);
  EXPECT_EQ(evaluations, 1);
}

TEST(StatusMacrosTest, ReturnIfErrorReturnsTheErrorUnchanged) {
  evaluations = 0;
  bool reached_end = false;
  const absl::Status status =
      ReturnIfError(absl::InvalidArgumentError("bad x"), &reached_end);
  EXPECT_EQ(status, absl::InvalidArgumentError("bad x"));
  EXPECT_FALSE(reached_end);
  EXPECT_EQ(evaluations, 1);
}

TEST(StatusMacrosTest, AssignOrReturnMovesTheValueOut) {
  evaluations = 0;
  absl::StatusOr<int> result = AssignOrReturn(true);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(*result, 42);
  EXPECT_EQ(evaluations, 1);
}

TEST(StatusMacrosTest, AssignOrReturnReturnsTheError) {
  absl::StatusOr<int> result = AssignOrReturn(false);
  EXPECT_EQ(result.status(), absl::NotFoundError("no int"));
}

TEST(StatusMacrosTest, AssignOrReturnWorksTwiceInOneScope) {
  absl::StatusOr<int> result = AssignTwiceToExisting();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(*result, 5);
}

}  // namespace
}  // namespace bnmlp
