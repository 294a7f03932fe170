#include "tests/e2e/reflection/grpcurl_script.h"

#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bnmlp::testing {
namespace {

using ::testing::HasSubstr;
using Verb = GrpcurlCommand::Verb;

TEST(ParseGrpcurlScriptTest, ReadsListDescribeAndCalls) {
  absl::StatusOr<std::vector<GrpcurlCommand>> commands = ParseGrpcurlScript(
      "#!/usr/bin/env bash\n"
      "ADDR=${ADDR:-localhost:50051}\n"
      "# grpcurl in a comment is ignored\n"
      "grpcurl -plaintext \"$ADDR\" list\n"
      "\n"
      "grpcurl -plaintext \"$ADDR\" describe bnmlp.v1.Tensor\n"
      "  grpcurl -plaintext -d '{\"name\": \"a b\"}' \"$ADDR\" "
      "bnmlp.v1.BnMlpService/GetModel\n"
      "grpcurl -plaintext \"$ADDR\" bnmlp.v1.BnMlpService/ListModels\n");
  ASSERT_TRUE(commands.ok()) << commands.status();
  ASSERT_EQ(commands->size(), 4u);
  EXPECT_EQ((*commands)[0].verb, Verb::kList);
  EXPECT_EQ((*commands)[0].line, 4);
  EXPECT_EQ((*commands)[1].verb, Verb::kDescribe);
  EXPECT_EQ((*commands)[1].target, "bnmlp.v1.Tensor");
  EXPECT_EQ((*commands)[2].verb, Verb::kCall);
  EXPECT_EQ((*commands)[2].target, "bnmlp.v1.BnMlpService/GetModel");
  EXPECT_EQ((*commands)[2].request_json, "{\"name\": \"a b\"}");
  EXPECT_EQ((*commands)[3].request_json, "{}");
}

TEST(ParseGrpcurlScriptTest, RejectsCommandsInAnotherFormNamingTheLine) {
  for (const char* bad : {
           "grpcurl localhost:50051 list\n",
           "grpcurl -plaintext localhost:50051 list\n",
           "grpcurl -plaintext -d '{}' \"$ADDR\"\n",
           "grpcurl -plaintext -d '{\"a\": 1} \"$ADDR\" x.Y/Z\n",
           "grpcurl -plaintext \"$ADDR\" \\\n  list\n",
           "grpcurl -plaintext \"$ADDR\" frobnicate\n",
       }) {
    absl::StatusOr<std::vector<GrpcurlCommand>> commands =
        ParseGrpcurlScript(bad);
    EXPECT_EQ(commands.status().code(), absl::StatusCode::kInvalidArgument)
        << bad;
    EXPECT_THAT(commands.status().message(), HasSubstr("line 1: ")) << bad;
  }
}

TEST(ParseGrpcurlScriptTest, TheExamplesFileCoversEveryRpc) {
  std::ifstream file(BNMLP_SOURCE_DIR "/examples/grpcurl.sh");
  ASSERT_TRUE(file.good());
  std::stringstream text;
  text << file.rdbuf();
  absl::StatusOr<std::vector<GrpcurlCommand>> commands =
      ParseGrpcurlScript(text.str());
  ASSERT_TRUE(commands.ok()) << commands.status();
  std::set<std::string> methods;
  bool lists = false;
  for (const GrpcurlCommand& command : *commands) {
    if (command.verb == Verb::kCall) methods.insert(command.target);
    if (command.verb == Verb::kList) lists = true;
  }
  EXPECT_TRUE(lists);
  for (const char* method : {"CreateModel", "Train", "Predict", "GetParameters",
                             "ListModels", "GetModel", "DeleteModel"}) {
    EXPECT_EQ(methods.count(std::string("bnmlp.v1.BnMlpService/") + method), 1u)
        << method;
  }
}

std::string ReadSourceFile(const std::string& relative) {
  std::ifstream file(std::string(BNMLP_SOURCE_DIR "/") + relative);
  EXPECT_TRUE(file.good()) << relative;
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// The README shows the commands of examples/grpcurl.sh; every grpcurl line
// it shows must be one of the file's lines (which the e2e test runs), so
// what a reader copies is what the test checks.
TEST(ParseGrpcurlScriptTest, TheReadmeShowsTheExamplesFilesCommands) {
  const std::string script = ReadSourceFile("examples/grpcurl.sh");
  std::set<std::string> script_lines;
  for (absl::string_view line : absl::StrSplit(script, '\n')) {
    if (absl::StartsWith(line, "grpcurl ")) script_lines.emplace(line);
  }
  int shown = 0;
  for (absl::string_view line :
       absl::StrSplit(ReadSourceFile("README.md"), '\n')) {
    if (!absl::StartsWith(line, "grpcurl ")) continue;
    ++shown;
    EXPECT_EQ(script_lines.count(std::string(line)), 1u)
        << "README.md shows a grpcurl command that examples/grpcurl.sh "
           "(and so the e2e test) does not have:\n"
        << line;
  }
  EXPECT_GE(shown, 9);
}

}  // namespace
}  // namespace bnmlp::testing
