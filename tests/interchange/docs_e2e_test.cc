// docs/interchange.md runs as written: its shell blocks (with `bnmlp`
// pointed at a real bnmlp-server on a free port, `python3` at Debian's,
// in a scratch directory that links the repository's tests/ and tools/),
// its Python files, and what they print checked against the server.
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/data/temp_files.h"
#include "tests/e2e/support/run_command.h"
#include "tests/e2e/support/server_process.h"
#include "tests/interchange/doc_blocks.h"
#include "tests/interchange/interchange_rpc.h"

namespace bnmlp::testing {
namespace {

using ::bnmlp::data::test_files::ReadRawFile;
using ::bnmlp::data::test_files::TempDir;
using ::testing::HasSubstr;

constexpr char kDoc[] = BNMLP_SOURCE_DIR "/docs/interchange.md";

std::vector<DocBlock> Blocks(const std::string& section,
                             const std::string& language) {
  std::vector<DocBlock> found;
  for (DocBlock& block : ParseDocBlocks(ReadRawFile(kDoc))) {
    if (block.section == section && block.language == language) {
      found.push_back(std::move(block));
    }
  }
  EXPECT_FALSE(found.empty()) << "no " << language << " block in section \""
                              << section << "\" of " << kDoc;
  return found;
}

// Writes the section's `python file=NAME` blocks into `dir`.
void WritePythonFiles(const std::string& section, const TempDir& dir) {
  for (const DocBlock& block : Blocks(section, "python")) {
    ASSERT_FALSE(block.file.empty()) << "a python block without file=";
    dir.Write(block.file, block.text);
  }
}

class DocsE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<ServerProcess>> server =
        ServerProcess::Start();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = ConnectTo(server_->address());
  }

  // Runs the section's shell blocks in `dir`, failing the test unless they
  // all succeed; returns their stdout.
  std::string RunSection(const std::string& section, const TempDir& dir) {
    const std::string cli = BnmlpCliPath();
    EXPECT_FALSE(cli.empty()) << "this build has no bnmlp CLI";
    std::vector<std::string> script = {
        "set -euo pipefail",
        absl::StrCat("cd '", dir.path(), "'"),
        absl::StrCat("ln -sfn '", BNMLP_SOURCE_DIR, "/tests' tests"),
        absl::StrCat("ln -sfn '", BNMLP_SOURCE_DIR, "/tools' tools"),
        absl::StrCat("bnmlp() { '", cli, "' \"$@\" --server '",
                     server_->address(), "'; }"),
        absl::StrCat("python3() { '", BNMLP_PYTHON, "' \"$@\"; }"),
    };
    for (const DocBlock& block : Blocks(section, "sh")) {
      script.push_back(block.text);
    }
    absl::StatusOr<CommandResult> run = RunCommand(
        {"bash", "-c", absl::StrJoin(script, "\n")}, "", absl::Seconds(300));
    EXPECT_TRUE(run.ok()) << run.status();
    if (!run.ok()) return "";
    EXPECT_EQ(run->exit_code, 0) << "section \"" << section << "\" failed:\n"
                                 << run->stdout_text << run->stderr_text;
    return run->stdout_text;
  }

  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<v1::BnMlpService::Stub> stub_;
};

// The documented snippet that loads GetParameters' JSON into torch
// predicts what bnmlp predicts (without the CLI: the JSON comes straight
// from GetParameters, as `bnmlp params --json` prints it).
TEST_F(DocsE2eTest, ParametersLoadIntoTorchWithTheDocumentedSnippet) {
  TempDir dir;
  WritePythonFiles("Parameters into PyTorch", dir);
  const Rows x = RandomRows(8, 3, 4);
  dir.Write("inputs.json", RowsJson(x));
  struct Case {
    v1::Normalization normalization;
    v1::Activation activation;
    const char* torch_activation;
  };
  const std::vector<Case> cases = {
      {v1::NORMALIZATION_PRE_ACTIVATION, v1::ACTIVATION_RELU, "relu"},
      {v1::NORMALIZATION_POST_ACTIVATION, v1::ACTIVATION_TANH, "tanh"},
      {v1::NORMALIZATION_NONE, v1::ACTIVATION_SIGMOID, "sigmoid"}};
  // One python run loads every model: {name: outputs}.
  std::vector<std::string> command = {BNMLP_PYTHON, dir.PathOf("driver.py"),
                                      dir.PathOf("inputs.json")};
  for (const Case& c : cases) {
    const std::string name = v1::Normalization_Name(c.normalization);
    v1::CreateModelRequest create;
    create.set_name(name);
    for (int64_t size : {3, 6, 5, 2}) create.add_layer_sizes(size);
    create.set_normalization(c.normalization);
    create.set_activation(c.activation);
    ASSERT_TRUE(CreateModel(*stub_, create).ok());
    v1::TrainRequest train;
    train.set_name(name);
    *train.mutable_x() = RowsToTensor(RandomRows(32, 3, 5));
    for (int i = 0; i < 32; ++i) train.add_labels(i % 2);
    train.set_epochs(2);
    train.set_batch_size(8);
    ASSERT_TRUE(Train(*stub_, train).ok());
    v1::GetParametersRequest request;
    request.set_name(name);
    v1::GetParametersResponse params;
    grpc::ClientContext context;
    ASSERT_TRUE(stub_->GetParameters(&context, request, &params).ok());
    std::string json;
    ASSERT_TRUE(
        google::protobuf::util::MessageToJsonString(params, &json).ok());
    command.push_back(name);
    command.push_back(dir.Write(name + ".json", json));
    command.push_back(c.torch_activation);
  }
  dir.Write("driver.py",
            absl::StrCat("import json, sys\n"
                         "sys.path.insert(0, '",
                         dir.path(),
                         "')\n"
                         "import torch\n"
                         "from bnmlp_to_torch import bnmlp_to_torch\n"
                         "x = torch.tensor(json.load(open(sys.argv[1]))['x'])\n"
                         "out = {}\n"
                         "for i in range(2, len(sys.argv), 3):\n"
                         "    params = json.load(open(sys.argv[i + 1]))\n"
                         "    model = bnmlp_to_torch(params, sys.argv[i + 2], "
                         "classification=True)\n"
                         "    with torch.no_grad():\n"
                         "        out[sys.argv[i]] = model(x).tolist()\n"
                         "print(json.dumps(out))\n"));
  absl::StatusOr<CommandResult> run = RunCommand(command);
  ASSERT_TRUE(run.ok()) << run.status();
  ASSERT_EQ(run->exit_code, 0) << run->stderr_text;
  const nlohmann::json outputs = nlohmann::json::parse(run->stdout_text);
  for (const Case& c : cases) {
    const std::string name = v1::Normalization_Name(c.normalization);
    absl::StatusOr<Rows> predicted = Predict(*stub_, name, x);
    ASSERT_TRUE(predicted.ok()) << predicted.status();
    EXPECT_LE(MaxAbsDiff(outputs.at(name).get<Rows>(), *predicted), 1e-5)
        << name;
  }
}

TEST_F(DocsE2eTest, EveryDocumentedCommandRuns) {
  TempDir dir;
  // Run a bnmlp model in ONNX Runtime: run_onnx.js's JSON (the last line)
  // is what Predict answers.
  std::string out = RunSection("Run a bnmlp model in ONNX Runtime", dir);
  const std::vector<std::string> lines =
      absl::StrSplit(out, '\n', absl::SkipEmpty());
  ASSERT_FALSE(lines.empty());
  const nlohmann::json ort = nlohmann::json::parse(lines.back());
  ASSERT_TRUE(ort.contains("blobs.onnx")) << lines.back();
  const Rows x = {{-2.0f, -2.0f}, {2.0f, 2.0f}};
  absl::StatusOr<Rows> predicted = Predict(*stub_, "blobs", x);
  ASSERT_TRUE(predicted.ok()) << predicted.status();
  EXPECT_LE(MaxAbsDiff(ort["blobs.onnx"].get<Rows>(), *predicted), 1e-5);
  EXPECT_GT((*predicted)[0][0], 0.5f);
  EXPECT_GT((*predicted)[1][1], 0.5f);

  // Serve a model trained in PyTorch: imported as a classifier that
  // separates the two classes.
  WritePythonFiles("Serve a model trained in PyTorch", dir);
  RunSection("Serve a model trained in PyTorch", dir);
  absl::StatusOr<Rows> classes =
      Predict(*stub_, "from_torch", {{1, 1, 0, 0}, {-1, -1, 0, 0}});
  ASSERT_TRUE(classes.ok()) << classes.status();
  EXPECT_GT((*classes)[0][1], 0.5f);
  EXPECT_GT((*classes)[1][0], 0.5f);

  // Parameters into PyTorch: the snippet's own example prints torch's
  // probabilities for the blobs model.
  WritePythonFiles("Parameters into PyTorch", dir);
  out = RunSection("Parameters into PyTorch", dir);
  EXPECT_THAT(out, HasSubstr("tensor("));
}

}  // namespace
}  // namespace bnmlp::testing
