// Models trained in PyTorch, served by bnmlp: make_torch_models.py (Debian's
// python3-torch) trains six nn.Sequential models and exports them with
// torch.onnx.export; a real bnmlp-server imports each through ImportModel,
// infers the configuration the graph implies, and predicts what PyTorch
// predicted. One of them trains further in bnmlp.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/data/temp_files.h"
#include "tests/e2e/support/run_command.h"
#include "tests/e2e/support/server_process.h"
#include "tests/interchange/interchange_rpc.h"

namespace bnmlp::testing {
namespace {

using ::bnmlp::data::test_files::ReadRawFile;
using ::bnmlp::data::test_files::TempDir;

// Mean cross-entropy of class probabilities against labels.
double CrossEntropy(const Rows& probabilities,
                    const std::vector<int32_t>& labels) {
  double sum = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    sum -= std::log(std::max(1e-30, double{probabilities[i][labels[i]]}));
  }
  return sum / static_cast<double>(labels.size());
}

class TorchImportE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    const std::string script = std::string(BNMLP_SOURCE_DIR) +
                               "/tests/interchange/make_torch_models.py";
    absl::StatusOr<CommandResult> made = RunCommand(
        {BNMLP_PYTHON, script, dir_->path()}, "", absl::Seconds(300));
    ASSERT_TRUE(made.ok()) << made.status();
    ASSERT_EQ(made->exit_code, 0)
        << BNMLP_PYTHON " " << script
        << " failed (python3-torch and python3-onnx come from "
           "scripts/install-deps):\n"
        << made->stderr_text;
    reference_ = new nlohmann::json(
        nlohmann::json::parse(ReadRawFile(dir_->PathOf("reference.json"))));
  }
  static void TearDownTestSuite() {
    delete reference_;
    delete dir_;
  }

  void SetUp() override {
    ASSERT_NE(reference_, nullptr) << "make_torch_models.py did not run";
    absl::StatusOr<std::unique_ptr<ServerProcess>> server =
        ServerProcess::Start();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = ConnectTo(server_->address());
  }

  static const nlohmann::json& Model(const std::string& name) {
    for (const nlohmann::json& model : (*reference_)["models"]) {
      if (model["name"] == name) return model;
    }
    ADD_FAILURE() << "no model " << name << " in reference.json";
    return (*reference_)["models"][0];
  }

  absl::StatusOr<v1::ModelInfo> ImportFromTorch(const nlohmann::json& model) {
    return ImportModel(*stub_, model["name"].get<std::string>(),
                       v1::FORMAT_ONNX,
                       ReadRawFile(model["file"].get<std::string>()));
  }

  static TempDir* dir_;
  static nlohmann::json* reference_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<v1::BnMlpService::Stub> stub_;
};

TempDir* TorchImportE2eTest::dir_ = nullptr;
nlohmann::json* TorchImportE2eTest::reference_ = nullptr;

TEST_F(TorchImportE2eTest, ImportedModelsPredictWhatPyTorchPredicted) {
  const Rows inputs = (*reference_)["inputs"].get<Rows>();
  ASSERT_EQ((*reference_)["models"].size(), 6u);
  std::printf("%-28s %-16s %-16s %-15s %s\n", "torch model", "normalization",
              "activation", "task", "max |bnmlp - torch|");
  for (const nlohmann::json& model : (*reference_)["models"]) {
    const std::string name = model["name"];
    absl::StatusOr<v1::ModelInfo> info = ImportFromTorch(model);
    ASSERT_TRUE(info.ok()) << name << ": " << info.status();
    const nlohmann::json& expected = model["expected"];
    EXPECT_EQ(std::vector<int64_t>(info->layer_sizes().begin(),
                                   info->layer_sizes().end()),
              expected["layer_sizes"].get<std::vector<int64_t>>())
        << name;
    EXPECT_EQ(v1::Normalization_Name(info->normalization()),
              "NORMALIZATION_" + expected["normalization"].get<std::string>())
        << name;
    EXPECT_EQ(v1::Activation_Name(info->activation()),
              "ACTIVATION_" + expected["activation"].get<std::string>())
        << name;
    EXPECT_EQ(v1::Task_Name(info->task()),
              "TASK_" + expected["task"].get<std::string>())
        << name;
    EXPECT_EQ(info->batch_norm_epsilon(),
              expected.value("batch_norm_epsilon", 1e-5))
        << name;
    EXPECT_EQ(info->batch_norm_momentum(),
              expected.value("batch_norm_momentum", 0.1))
        << name;
    absl::StatusOr<Rows> predicted = Predict(*stub_, name, inputs);
    ASSERT_TRUE(predicted.ok()) << name << ": " << predicted.status();
    const double diff = MaxAbsDiff(*predicted, model["outputs"].get<Rows>());
    EXPECT_LE(diff, 1e-5) << name;
    std::printf("%-28s %-16s %-16s %-15s %.3g\n", name.c_str(),
                expected["normalization"].get<std::string>().c_str(),
                expected["activation"].get<std::string>().c_str(),
                expected["task"].get<std::string>().c_str(), diff);
  }
}

TEST_F(TorchImportE2eTest, TrainingFurtherInBnmlpLowersTheLoss) {
  const nlohmann::json& model = Model("pre_relu_softmax");
  ASSERT_TRUE(ImportFromTorch(model).ok());
  const Rows x = (*reference_)["train"]["x"].get<Rows>();
  const std::vector<int32_t> labels =
      (*reference_)["train"]["labels"].get<std::vector<int32_t>>();
  absl::StatusOr<Rows> before = Predict(*stub_, "pre_relu_softmax", x);
  ASSERT_TRUE(before.ok()) << before.status();

  v1::TrainRequest train;
  train.set_name("pre_relu_softmax");
  *train.mutable_x() = RowsToTensor(x);
  train.mutable_labels()->Add(labels.begin(), labels.end());
  train.set_epochs(10);
  train.set_batch_size(32);
  train.set_optimizer(v1::OPTIMIZER_ADAM);
  train.set_learning_rate(0.01f);
  absl::StatusOr<v1::TrainProgress> done = Train(*stub_, train);
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->version(), 11);

  absl::StatusOr<Rows> after = Predict(*stub_, "pre_relu_softmax", x);
  ASSERT_TRUE(after.ok()) << after.status();
  const double loss_before = CrossEntropy(*before, labels);
  const double loss_after = CrossEntropy(*after, labels);
  std::printf("cross-entropy (eval mode) on the training data: %.4f -> %.4f\n",
              loss_before, loss_after);
  EXPECT_LT(loss_after, loss_before);
}

}  // namespace
}  // namespace bnmlp::testing
