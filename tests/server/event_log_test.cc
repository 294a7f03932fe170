#include "server/event_log.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bnmlp {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(FormatRpcEventTest, OkCallHasMethodModelCodeAndDuration) {
  EXPECT_EQ(FormatRpcEvent("Predict", "iris", absl::OkStatus(),
                           absl::Microseconds(1500)),
            "rpc=Predict model=iris code=OK ms=1.500");
}

TEST(FormatRpcEventTest, ErrorCarriesItsMessage) {
  const std::string line = FormatRpcEvent(
      "Train", "m", absl::InvalidArgumentError("epochs must be in [1, 100000]"),
      absl::Milliseconds(2));
  EXPECT_THAT(line, HasSubstr("code=INVALID_ARGUMENT"));
  EXPECT_THAT(line, HasSubstr("error=\"epochs must be in [1, 100000]\""));
}

TEST(FormatRpcEventTest, NoModelIsADashAndHostileNamesStayOnOneLine) {
  EXPECT_THAT(
      FormatRpcEvent("ListModels", "", absl::OkStatus(), absl::ZeroDuration()),
      HasSubstr("model=- "));
  const std::string line =
      FormatRpcEvent("GetModel", "a\nb", absl::NotFoundError("line1\nline2"),
                     absl::ZeroDuration());
  EXPECT_THAT(line, Not(HasSubstr("\n")));
}

}  // namespace
}  // namespace bnmlp
