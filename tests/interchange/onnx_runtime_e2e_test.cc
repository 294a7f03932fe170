// ONNX Runtime judges bnmlp's ONNX exports: for every task, normalization
// and activation, a model trained briefly on a real bnmlp-server (so its
// running statistics are not trivial) is exported folded and unfolded, run
// in ONNX Runtime (run_onnx.js, onnxruntime-node), and compared with
// Predict on the same inputs. The unfolded file is also imported back.
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/data/temp_files.h"
#include "tests/e2e/support/run_command.h"
#include "tests/e2e/support/server_process.h"
#include "tests/interchange/interchange_rpc.h"

namespace bnmlp::testing {
namespace {

using ::bnmlp::data::test_files::TempDir;

constexpr int64_t kInputs = 6;
constexpr int64_t kOutputs = 3;

struct Combination {
  v1::Task task;
  v1::Normalization normalization;
  v1::Activation activation;

  std::string Name() const {
    return absl::StrCat(v1::Task_Name(task).substr(5), "-",
                        v1::Normalization_Name(normalization).substr(14), "-",
                        v1::Activation_Name(activation).substr(11));
  }
};

std::vector<Combination> AllCombinations() {
  std::vector<Combination> all;
  for (v1::Task t : {v1::TASK_CLASSIFICATION, v1::TASK_REGRESSION}) {
    for (v1::Normalization n :
         {v1::NORMALIZATION_PRE_ACTIVATION, v1::NORMALIZATION_POST_ACTIVATION,
          v1::NORMALIZATION_NONE}) {
      for (v1::Activation a :
           {v1::ACTIVATION_RELU, v1::ACTIVATION_TANH, v1::ACTIVATION_SIGMOID,
            v1::ACTIVATION_IDENTITY}) {
        all.push_back({t, n, a});
      }
    }
  }
  return all;
}

// Creates the model and trains it for a few epochs.
absl::Status CreateAndTrain(v1::BnMlpService::Stub& stub,
                            const Combination& c) {
  v1::CreateModelRequest create;
  create.set_name(c.Name());
  for (int64_t size : {kInputs, int64_t{10}, int64_t{8}, kOutputs}) {
    create.add_layer_sizes(size);
  }
  create.set_task(c.task);
  create.set_normalization(c.normalization);
  create.set_activation(c.activation);
  create.set_batch_norm_momentum(0.3);  // running statistics move quickly
  create.set_seed(5);
  if (absl::Status s = CreateModel(stub, create); !s.ok()) return s;
  v1::TrainRequest train;
  train.set_name(c.Name());
  const Rows x = RandomRows(64, kInputs, 1);
  *train.mutable_x() = RowsToTensor(x);
  if (c.task == v1::TASK_CLASSIFICATION) {
    for (int i = 0; i < 64; ++i) train.add_labels(i % kOutputs);
  } else {
    *train.mutable_targets() = RowsToTensor(RandomRows(64, kOutputs, 2));
  }
  train.set_epochs(3);
  train.set_batch_size(16);
  train.set_learning_rate(0.05f);
  return Train(stub, train).status();
}

TEST(OnnxRuntimeE2eTest, EveryCombinationMatchesPredictFoldedAndUnfolded) {
  absl::StatusOr<std::unique_ptr<ServerProcess>> server =
      ServerProcess::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  std::unique_ptr<v1::BnMlpService::Stub> stub =
      ConnectTo((*server)->address());
  TempDir dir;
  Rows x = RandomRows(20, kInputs, 99);
  for (float& v : x[0]) v *= 4;  // a sample far from the training data
  const std::string inputs = dir.Write("inputs.json", RowsJson(x));

  std::vector<std::string> command = {
      "node", std::string(BNMLP_SOURCE_DIR) + "/tests/interchange/run_onnx.js",
      inputs};
  std::map<std::string, Rows> predicted;
  for (const Combination& c : AllCombinations()) {
    const std::string name = c.Name();
    ASSERT_TRUE(CreateAndTrain(*stub, c).ok()) << name;
    absl::StatusOr<Rows> outputs = Predict(*stub, name, x);
    ASSERT_TRUE(outputs.ok()) << name << ": " << outputs.status();
    predicted[name] = *outputs;
    for (bool fold : {false, true}) {
      absl::StatusOr<std::string> file =
          ExportModel(*stub, name, v1::FORMAT_ONNX, fold);
      ASSERT_TRUE(file.ok()) << name << ": " << file.status();
      command.push_back(dir.Write(
          absl::StrCat(name, fold ? "-folded" : "-unfolded", ".onnx"), *file));
      if (fold) continue;
      // bnmlp -> ONNX -> bnmlp predicts the same.
      const std::string copy = name + "-imported";
      ASSERT_TRUE(ImportModel(*stub, copy, v1::FORMAT_ONNX, *file).ok());
      absl::StatusOr<Rows> again = Predict(*stub, copy, x);
      ASSERT_TRUE(again.ok()) << again.status();
      EXPECT_LE(MaxAbsDiff(*again, *outputs), 1e-6) << copy;
    }
  }

  absl::StatusOr<CommandResult> ort = RunCommand(command);
  ASSERT_TRUE(ort.ok()) << ort.status();
  ASSERT_EQ(ort->exit_code, 0)
      << "ONNX Runtime (node run_onnx.js) failed: " << ort->stderr_text;
  const nlohmann::json results = nlohmann::json::parse(ort->stdout_text);
  std::printf("%-40s %14s %14s\n", "max |ORT - Predict|", "unfolded", "folded");
  for (const Combination& c : AllCombinations()) {
    const std::string name = c.Name();
    double diff[2];
    for (bool fold : {false, true}) {
      const std::string file = dir.PathOf(
          absl::StrCat(name, fold ? "-folded" : "-unfolded", ".onnx"));
      ASSERT_TRUE(results.contains(file)) << file;
      const Rows ort_rows = results.at(file).get<Rows>();
      diff[fold] = MaxAbsDiff(ort_rows, predicted[name]);
      EXPECT_LE(diff[fold], 1e-5) << file;
    }
    std::printf("%-40s %14.3g %14.3g\n", name.c_str(), diff[0], diff[1]);
  }
}

}  // namespace
}  // namespace bnmlp::testing
