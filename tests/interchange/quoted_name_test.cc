#include "interchange/quoted_name.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bnmlp {
namespace {

TEST(QuotedNameTest, QuotesAndEscapes) {
  EXPECT_EQ(QuotedName("w"), "'w'");
  EXPECT_EQ(QuotedName(""), "''");
  EXPECT_EQ(QuotedName(std::string("a\nb\0z", 5)), "'a\\nb\\x00z'");
}

TEST(QuotedNameTest, BoundsLongNamesAndSaysHowMuchWasCut) {
  const std::string quoted = QuotedName(std::string(10000, 'x'));
  EXPECT_LT(quoted.size(), 120u);
  EXPECT_THAT(quoted, ::testing::HasSubstr("(9920 more bytes cut)"));
}

}  // namespace
}  // namespace bnmlp
