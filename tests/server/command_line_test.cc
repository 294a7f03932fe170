#include "server/command_line.h"

#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

// Defined in a file under a server/ directory, so the parser accepts them.
ABSL_FLAG(int, test_threads, 4, "A test flag");
ABSL_FLAG(bool, test_switch, false, "A test bool flag");
ABSL_FLAG(std::string, test_name, "", "A test string flag");

namespace bnmlp {
namespace {

using Action = ServerCommandLine::Action;
using ::testing::HasSubstr;

ServerCommandLine Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "bnmlp-server");
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  return ParseServerCommandLine(argv, "Usage: bnmlp-server [flags]");
}

class ServerCommandLineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::SetFlag(&FLAGS_test_threads, 4);
    absl::SetFlag(&FLAGS_test_switch, false);
    absl::SetFlag(&FLAGS_test_name, "");
  }
};

TEST_F(ServerCommandLineTest, SetsFlagsInEveryForm) {
  EXPECT_EQ(
      Parse({"--test_threads=7", "--test_switch", "-test_name", "x"}).action,
      Action::kRun);
  EXPECT_EQ(absl::GetFlag(FLAGS_test_threads), 7);
  EXPECT_TRUE(absl::GetFlag(FLAGS_test_switch));
  EXPECT_EQ(absl::GetFlag(FLAGS_test_name), "x");
  EXPECT_EQ(Parse({"--notest_switch"}).action, Action::kRun);
  EXPECT_FALSE(absl::GetFlag(FLAGS_test_switch));
}

TEST_F(ServerCommandLineTest, HelpListsTheFlagsWithTheirDefaults) {
  const ServerCommandLine help = Parse({"--help"});
  EXPECT_EQ(help.action, Action::kPrintHelp);
  EXPECT_THAT(help.text, HasSubstr("Usage: bnmlp-server [flags]"));
  EXPECT_THAT(help.text, HasSubstr("--test_threads (default: \"4\")"));
  EXPECT_THAT(help.text, HasSubstr("A test flag"));
  EXPECT_EQ(Parse({"-h"}).action, Action::kPrintHelp);
}

TEST_F(ServerCommandLineTest, VersionNamesTheProjectVersionAndCommit) {
  const ServerCommandLine version = Parse({"--version"});
  EXPECT_EQ(version.action, Action::kPrintVersion);
  EXPECT_THAT(version.text, ::testing::MatchesRegex(
                                "bnmlp-server [0-9]+\\.[0-9]+\\.[0-9]+ "
                                "\\(git ([0-9a-f]+(-dirty)?|unknown)\\)\n"));
}

TEST_F(ServerCommandLineTest, UsageErrorsNameTheProblem) {
  ServerCommandLine bad = Parse({"--no_such_flag=1"});
  EXPECT_EQ(bad.action, Action::kUsageError);
  EXPECT_THAT(bad.text, HasSubstr("unknown flag --no_such_flag"));
  bad = Parse({"--test_threads=many"});
  EXPECT_EQ(bad.action, Action::kUsageError);
  EXPECT_THAT(bad.text, HasSubstr("bad value 'many' for --test_threads"));
  bad = Parse({"--test_threads"});
  EXPECT_THAT(bad.text, HasSubstr("--test_threads needs a value"));
  bad = Parse({"serve"});
  EXPECT_THAT(bad.text, HasSubstr("unexpected argument 'serve'"));
  // --noX only negates bool flags.
  EXPECT_EQ(Parse({"--notest_threads"}).action, Action::kUsageError);
}

TEST_F(ServerCommandLineTest, LongArgumentsAreNotEchoedInFull) {
  const ServerCommandLine bad = Parse({"--" + std::string(100000, 'y')});
  EXPECT_EQ(bad.action, Action::kUsageError);
  EXPECT_LT(bad.text.size(), 400u);
}

}  // namespace
}  // namespace bnmlp
