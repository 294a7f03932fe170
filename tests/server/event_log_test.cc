#include "server/event_log.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bnmlp {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(FormatRpcEventTest, OkCallHasMethodIdPeerModelCodeAndDuration) {
  EXPECT_EQ(FormatRpcEvent("Predict", "abc-1", "ipv4:127.0.0.1:5000", "iris",
                           absl::OkStatus(), absl::Microseconds(1500)),
            "rpc=Predict id=abc-1 peer=ipv4:127.0.0.1:5000 model=iris code=OK "
            "ms=1.500");
}

TEST(FormatRpcEventTest, AKnownCallerFollowsThePeer) {
  EXPECT_EQ(FormatRpcEvent("Predict", "abc-1", "ipv4:127.0.0.1:5000", "iris",
                           absl::OkStatus(), absl::Microseconds(1500),
                           "reader:1a2b3c4d"),
            "rpc=Predict id=abc-1 peer=ipv4:127.0.0.1:5000 "
            "caller=reader:1a2b3c4d model=iris code=OK ms=1.500");
}

TEST(FormatRpcEventTest, ErrorCarriesItsMessage) {
  const std::string line = FormatRpcEvent(
      "Train", "id", "p", "m",
      absl::InvalidArgumentError("epochs must be in [1, 100000]"),
      absl::Milliseconds(2));
  EXPECT_THAT(line, HasSubstr("code=INVALID_ARGUMENT"));
  EXPECT_THAT(line, HasSubstr("error=\"epochs must be in [1, 100000]\""));
}

TEST(FormatRpcEventTest, NoModelIsADashAndHostileTextStaysOnOneBoundedLine) {
  EXPECT_THAT(FormatRpcEvent("ListModels", "id", "p", "", absl::OkStatus(),
                             absl::ZeroDuration()),
              HasSubstr("model=- "));
  const std::string line = FormatRpcEvent(
      "GetModel", "id", "p", "a\nb",
      absl::NotFoundError("line1\nline2" + std::string(1 << 20, 'x')),
      absl::ZeroDuration());
  EXPECT_THAT(line, Not(HasSubstr("\n")));
  EXPECT_LT(line.size(), 500u);
  EXPECT_THAT(line, HasSubstr("more bytes)"));
}

TEST(LogLevelTest, ClientMistakesWarnAndServerFaultsAreErrors) {
  EXPECT_EQ(LevelOf(absl::StatusCode::kOk), LogLevel::kInfo);
  EXPECT_EQ(LevelOf(absl::StatusCode::kInvalidArgument), LogLevel::kWarning);
  EXPECT_EQ(LevelOf(absl::StatusCode::kUnauthenticated), LogLevel::kWarning);
  EXPECT_EQ(LevelOf(absl::StatusCode::kResourceExhausted), LogLevel::kWarning);
  EXPECT_EQ(LevelOf(absl::StatusCode::kInternal), LogLevel::kError);
  EXPECT_EQ(LevelOf(absl::StatusCode::kDataLoss), LogLevel::kError);
  EXPECT_EQ(LogLevelName(LogLevel::kWarning), "WARNING");
}

}  // namespace
}  // namespace bnmlp
