#include "client/cli/command_line.h"

#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

ABSL_FLAG(std::string, cl_test_name, "", "The model's name.");
ABSL_FLAG(int32_t, cl_test_epochs, 10, "Passes over the data.");
ABSL_FLAG(bool, cl_test_verbose, false, "Talk more.");
ABSL_FLAG(std::string, cl_test_server, "localhost:50051", "Server address.");

namespace bnmlp::cli {
namespace {

using ::testing::HasSubstr;

class CommandLineTest : public ::testing::Test {
 protected:
  absl::StatusOr<ParsedCommandLine> Parse(std::vector<std::string> args) {
    return ParseCommandLine(args, commands_, common_);
  }

  // Flags are process-global: restore them after every test.
  absl::FlagSaver saver_;
  const std::vector<CommandSpec> commands_ = {
      {"train",
       "Train a model.",
       "Trains it.",
       {"cl_test_name", "cl_test_epochs", "cl_test_verbose"}},
      {"list", "List models.", "", {}},
  };
  const std::vector<std::string> common_ = {"cl_test_server"};
};

TEST_F(CommandLineTest, ParsesCommandAndEveryFlagSyntax) {
  absl::StatusOr<ParsedCommandLine> parsed =
      Parse({"--cl_test_server=host:1", "train", "--cl_test_name", "m",
             "-cl_test_epochs=3", "--cl_test_verbose"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->command, "train");
  EXPECT_FALSE(parsed->help_requested);
  EXPECT_EQ(absl::GetFlag(FLAGS_cl_test_server), "host:1");
  EXPECT_EQ(absl::GetFlag(FLAGS_cl_test_name), "m");
  EXPECT_EQ(absl::GetFlag(FLAGS_cl_test_epochs), 3);
  EXPECT_TRUE(absl::GetFlag(FLAGS_cl_test_verbose));
  EXPECT_TRUE(parsed->flags_set.contains("cl_test_epochs"));
  EXPECT_TRUE(parsed->flags_set.contains("cl_test_server"));
}

TEST_F(CommandLineTest, UnsetFlagsKeepDefaultsAndAreNotMarkedSet) {
  absl::StatusOr<ParsedCommandLine> parsed = Parse({"train"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(absl::GetFlag(FLAGS_cl_test_epochs), 10);
  EXPECT_FALSE(parsed->flags_set.contains("cl_test_epochs"));
}

TEST_F(CommandLineTest, NoPrefixTurnsABoolFlagOff) {
  absl::SetFlag(&FLAGS_cl_test_verbose, true);
  ASSERT_TRUE(Parse({"train", "--nocl_test_verbose"}).ok());
  EXPECT_FALSE(absl::GetFlag(FLAGS_cl_test_verbose));
}

TEST_F(CommandLineTest, HelpAnywhereWinsAndNamesTheCommand) {
  absl::StatusOr<ParsedCommandLine> parsed =
      Parse({"train", "--bogus", "--help"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(parsed->help_requested);
  EXPECT_EQ(parsed->command, "train");

  parsed = Parse({"-h"});
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed->help_requested);
  EXPECT_EQ(parsed->command, "");

  parsed = Parse({"help", "list"});
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed->help_requested);
  EXPECT_EQ(parsed->command, "list");
}

TEST_F(CommandLineTest, VersionAnywhereIsAskedForAndSkipsOtherChecks) {
  absl::StatusOr<ParsedCommandLine> parsed = Parse({"--version"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(parsed->version_requested);
  EXPECT_FALSE(parsed->help_requested);

  parsed = Parse({"train", "--bogus", "--version"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(parsed->version_requested);

  parsed = Parse({"list"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_FALSE(parsed->version_requested);
}

TEST_F(CommandLineTest, HelpWinsOverVersion) {
  absl::StatusOr<ParsedCommandLine> parsed = Parse({"--version", "--help"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(parsed->help_requested);
  EXPECT_FALSE(parsed->version_requested);
}

TEST_F(CommandLineTest, TheWordHelpIsAnOrdinaryValueAfterTheCommand) {
  absl::StatusOr<ParsedCommandLine> parsed =
      Parse({"train", "--cl_test_name", "help"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_FALSE(parsed->help_requested);
  EXPECT_EQ(absl::GetFlag(FLAGS_cl_test_name), "help");
}

TEST_F(CommandLineTest, FindsCommandsByName) {
  EXPECT_EQ(FindCommand(commands_, "list"), &commands_[1]);
  EXPECT_EQ(FindCommand(commands_, "lst"), nullptr);
}

TEST_F(CommandLineTest, MistakesAreInvalidArgumentNamingTheArgument) {
  const struct {
    std::vector<std::string> args;
    std::string message;
  } cases[] = {
      {{}, "no command given; the commands are train, list"},
      {{"trian"}, "unknown command 'trian'"},
      {{"train", "--epochz=3"}, "unknown flag --epochz"},
      {{"list", "--cl_test_epochs=3"},
       "'bnmlp list' has no flag --cl_test_epochs"},
      {{"train", "--cl_test_name"}, "--cl_test_name needs a value"},
      {{"train", "--cl_test_epochs=many"}, "--cl_test_epochs=many: "},
      {{"train", "extra"}, "unexpected argument 'extra'"},
  };
  for (const auto& c : cases) {
    absl::StatusOr<ParsedCommandLine> parsed = Parse(c.args);
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument)
        << testing::PrintToString(c.args);
    EXPECT_THAT(parsed.status().message(), HasSubstr(c.message));
  }
}

TEST_F(CommandLineTest, BadValueLeavesTheFlagUnchanged) {
  EXPECT_FALSE(Parse({"train", "--cl_test_epochs=x"}).ok());
  EXPECT_EQ(absl::GetFlag(FLAGS_cl_test_epochs), 10);
}

TEST_F(CommandLineTest, HelpTextsListCommandsFlagsAndDefaults) {
  const std::string program = ProgramHelp("bnmlp", "intro", commands_, common_);
  EXPECT_THAT(program, HasSubstr("train     Train a model."));
  EXPECT_THAT(program,
              HasSubstr("--cl_test_server (default: localhost:50051)"));

  const std::string train = CommandHelp("bnmlp", commands_[0], common_);
  EXPECT_THAT(train, HasSubstr("Usage: bnmlp train"));
  EXPECT_THAT(train, HasSubstr("Trains it."));
  EXPECT_THAT(
      train,
      HasSubstr("--cl_test_epochs (default: 10)\n      Passes over the data."));
  EXPECT_THAT(train, HasSubstr("--cl_test_server"));
}

}  // namespace
}  // namespace bnmlp::cli
