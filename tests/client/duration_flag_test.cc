#include "client/cli/duration_flag.h"

#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

ABSL_FLAG(bnmlp::cli::SecondsOrDuration, duration_flag_test_timeout,
          bnmlp::cli::SecondsOrDuration{absl::Seconds(30)}, "A timeout.");

namespace bnmlp::cli {
namespace {

using ::testing::HasSubstr;

absl::Duration Parse(absl::string_view text) {
  SecondsOrDuration duration{absl::ZeroDuration()};
  std::string error;
  EXPECT_TRUE(AbslParseFlag(text, &duration, &error)) << text << ": " << error;
  return duration.value;
}

TEST(DurationFlagTest, ABareNumberIsSeconds) {
  EXPECT_EQ(Parse("5"), absl::Seconds(5));
  EXPECT_EQ(Parse("0.5"), absl::Milliseconds(500));
  EXPECT_EQ(Parse(" 12 "), absl::Seconds(12));
  EXPECT_EQ(Parse("0"), absl::ZeroDuration());
}

TEST(DurationFlagTest, DurationsWithUnitsKeepWorking) {
  EXPECT_EQ(Parse("5s"), absl::Seconds(5));
  EXPECT_EQ(Parse("500ms"), absl::Milliseconds(500));
  EXPECT_EQ(Parse("2m"), absl::Minutes(2));
  EXPECT_EQ(Parse("1h30m"), absl::Minutes(90));
  EXPECT_EQ(Parse("inf"), absl::InfiniteDuration());
}

TEST(DurationFlagTest, OtherTextIsAnErrorSayingWhatIsExpected) {
  for (absl::string_view text : {"abc", "5 s", "nan", "", "5x"}) {
    SecondsOrDuration duration{absl::Seconds(7)};
    std::string error;
    EXPECT_FALSE(AbslParseFlag(text, &duration, &error)) << text;
    EXPECT_THAT(error, HasSubstr("expected seconds (e.g. 5 or 0.5)")) << text;
    EXPECT_EQ(duration.value, absl::Seconds(7)) << text;
  }
}

TEST(DurationFlagTest, PrintsAbslsForm) {
  EXPECT_EQ(AbslUnparseFlag(SecondsOrDuration{absl::Seconds(30)}), "30s");
  EXPECT_EQ(AbslUnparseFlag(SecondsOrDuration{absl::Milliseconds(1500)}),
            "1.5s");
}

TEST(DurationFlagTest, WorksAsAnAbslFlag) {
  absl::FlagSaver saver;
  absl::CommandLineFlag* flag =
      absl::FindCommandLineFlag("duration_flag_test_timeout");
  ASSERT_NE(flag, nullptr);
  EXPECT_EQ(flag->DefaultValue(), "30s");
  std::string error;
  ASSERT_TRUE(flag->ParseFrom("5", &error)) << error;
  EXPECT_EQ(absl::GetFlag(FLAGS_duration_flag_test_timeout).value,
            absl::Seconds(5));
  EXPECT_FALSE(flag->ParseFrom("five", &error));
}

}  // namespace
}  // namespace bnmlp::cli
