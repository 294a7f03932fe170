// The real `bnmlp` CLI's datasets against the real bnmlp-server: upload
// (CSV file, stdin, regression targets), datasets (text and JSON),
// delete-dataset, train --dataset / --validation_dataset, `train` on local
// files going through temporary datasets (same parameters, nothing left
// behind), and usage errors.
#include <string>
#include <vector>

#include "bnmlp/v1/bnmlp.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/client/test_files.h"
#include "tests/e2e/cli/cli_test_support.h"
#include "tests/e2e/support/run_command.h"

namespace bnmlp {
namespace {

using ::bnmlp::cli_testing::CliTest;
using ::bnmlp::cli_testing::Describe;
using ::bnmlp::cli_testing::kRpcError;
using ::bnmlp::cli_testing::kUsage;
using ::bnmlp::cli_testing::ParseJson;
using ::bnmlp::client_testing::SeparableCsv;
using ::bnmlp::testing::CommandResult;
using ::testing::HasSubstr;

class DatasetCliTest : public CliTest {
 protected:
  std::vector<std::string> ServerFlags() const override {
    return {"--max_message_bytes=4194304"};
  }

  v1::ListDatasetsResponse Datasets() {
    const CommandResult listed = Bnmlp({"datasets", "--json"});
    EXPECT_EQ(listed.exit_code, 0) << Describe(listed);
    return ParseJson<v1::ListDatasetsResponse>(listed.stdout_text);
  }
};

TEST_F(DatasetCliTest, UploadListTrainOnADatasetAndDelete) {
  const std::string train = dir_.Write("train.csv", SeparableCsv(300, 4, 3, 1));
  const std::string test = dir_.Write("test.csv", SeparableCsv(90, 4, 3, 2));
  const CommandResult uploaded =
      Bnmlp({"upload", "--name", "blobs", "--csv", train});
  ASSERT_EQ(uploaded.exit_code, 0) << Describe(uploaded);
  EXPECT_THAT(uploaded.stdout_text,
              HasSubstr("uploaded dataset 'blobs': 300 rows x 4 features, "
                        "class labels (3 classes)"));
  EXPECT_THAT(uploaded.stderr_text, HasSubstr("300/300 rows"));
  const CommandResult from_stdin =
      Bnmlp({"upload", "--json", "--name", "test"}, SeparableCsv(90, 4, 3, 2));
  ASSERT_EQ(from_stdin.exit_code, 0) << Describe(from_stdin);
  EXPECT_EQ(ParseJson<v1::DatasetInfo>(from_stdin.stdout_text).rows(), 90);

  const CommandResult table = Bnmlp({"datasets"});
  ASSERT_EQ(table.exit_code, 0) << Describe(table);
  EXPECT_THAT(table.stdout_text, HasSubstr("blobs"));
  EXPECT_THAT(table.stdout_text, HasSubstr("3 classes"));
  const v1::ListDatasetsResponse listed = Datasets();
  ASSERT_EQ(listed.datasets_size(), 2);
  EXPECT_EQ(listed.datasets(0).name(), "blobs");
  EXPECT_EQ(listed.datasets(0).bytes(), 300 * 5 * 4);

  ASSERT_EQ(Bnmlp({"create", "--name", "m", "--layers", "4-16-3"}).exit_code,
            0);
  const CommandResult trained = Bnmlp({"train", "--name", "m", "--dataset",
                                       "blobs", "--validation_dataset", "test",
                                       "--epochs", "5", "--batch_size", "20"});
  ASSERT_EQ(trained.exit_code, 0) << Describe(trained);
  EXPECT_THAT(trained.stdout_text,
              HasSubstr("training model 'm' on dataset 'blobs', validating "
                        "on 'test'"));
  EXPECT_THAT(trained.stdout_text, HasSubstr("validation accuracy"));

  const CommandResult deleted = Bnmlp({"delete-dataset", "--name", "blobs"});
  ASSERT_EQ(deleted.exit_code, 0) << Describe(deleted);
  EXPECT_THAT(deleted.stdout_text, HasSubstr("deleted dataset 'blobs'"));
  EXPECT_EQ(Datasets().datasets_size(), 1);
  const CommandResult again = Bnmlp({"delete-dataset", "--name", "blobs"});
  EXPECT_EQ(again.exit_code, kRpcError) << Describe(again);
  EXPECT_THAT(again.stderr_text, HasSubstr("dataset 'blobs' not found"));
}

TEST_F(DatasetCliTest, TrainOnLocalFilesMatchesTrainOnAnUploadAndCleansUp) {
  const std::string train = dir_.Write("train.csv", SeparableCsv(200, 3, 2, 4));
  const std::string test = dir_.Write("test.csv", SeparableCsv(50, 3, 2, 5));
  for (const char* model : {"local", "uploaded"}) {
    ASSERT_EQ(
        Bnmlp({"create", "--name", model, "--layers", "3-8-2", "--seed", "11"})
            .exit_code,
        0);
  }
  const std::vector<std::string> options = {
      "--epochs", "3", "--batch_size", "16", "--shuffle_seed", "5"};
  std::vector<std::string> local = {"train",       "--name", "local",
                                    "--train_csv", train,    "--validation_csv",
                                    test};
  local.insert(local.end(), options.begin(), options.end());
  const CommandResult from_files = Bnmlp(local);
  ASSERT_EQ(from_files.exit_code, 0) << Describe(from_files);
  EXPECT_THAT(from_files.stderr_text, HasSubstr("uploading training set"));
  // The temporary datasets are gone.
  EXPECT_EQ(Datasets().datasets_size(), 0);

  ASSERT_EQ(Bnmlp({"upload", "--name", "t", "--csv", train}).exit_code, 0);
  ASSERT_EQ(Bnmlp({"upload", "--name", "v", "--csv", test}).exit_code, 0);
  std::vector<std::string> by_name = {
      "train", "--name", "uploaded", "--dataset", "t", "--validation_dataset",
      "v"};
  by_name.insert(by_name.end(), options.begin(), options.end());
  const CommandResult from_dataset = Bnmlp(by_name);
  ASSERT_EQ(from_dataset.exit_code, 0) << Describe(from_dataset);

  auto parameters = [&](const std::string& name) {
    auto response = ParseJson<v1::GetParametersResponse>(
        Bnmlp({"params", "--json", "--name", name}).stdout_text);
    response.clear_name();
    return response.SerializeAsString();
  };
  EXPECT_EQ(parameters("local"), parameters("uploaded"));
}

TEST_F(DatasetCliTest, UploadsRegressionTargets) {
  std::string csv;
  for (int i = 0; i < 40; ++i) {
    absl::StrAppend(&csv, i * 0.1, ",", i * 0.2, ",", i * 0.3, ",", -i * 0.5,
                    "\n");
  }
  const CommandResult uploaded =
      Bnmlp({"upload", "--name", "r", "--task", "regression",
             "--csv_target_columns", "2,3", "--json"},
            csv);
  ASSERT_EQ(uploaded.exit_code, 0) << Describe(uploaded);
  const auto info = ParseJson<v1::DatasetInfo>(uploaded.stdout_text);
  EXPECT_EQ(info.target_kind(), v1::TARGET_KIND_VALUES);
  EXPECT_EQ(info.target_width(), 2);
  EXPECT_EQ(info.features(), 2);
  ASSERT_EQ(Bnmlp({"create", "--name", "reg", "--layers", "2-4-2", "--task",
                   "regression"})
                .exit_code,
            0);
  const CommandResult trained =
      Bnmlp({"train", "--name", "reg", "--dataset", "r", "--epochs", "2"});
  EXPECT_EQ(trained.exit_code, 0) << Describe(trained);
  // A dataset that does not fit the model: the server names both.
  ASSERT_EQ(Bnmlp({"create", "--name", "cls", "--layers", "2-4-2"}).exit_code,
            0);
  const CommandResult mismatch =
      Bnmlp({"train", "--name", "cls", "--dataset", "r"});
  EXPECT_EQ(mismatch.exit_code, kRpcError) << Describe(mismatch);
  EXPECT_THAT(mismatch.stderr_text,
              HasSubstr("dataset 'r' holds target values, but the model is a "
                        "classification model"));
}

TEST_F(DatasetCliTest, UsageErrors) {
  const std::string train = dir_.Write("train.csv", SeparableCsv(20, 3, 2, 4));
  CommandResult result =
      Bnmlp({"train", "--name", "m", "--validation_dataset", "v"});
  EXPECT_EQ(result.exit_code, kUsage) << Describe(result);
  EXPECT_THAT(result.stderr_text,
              HasSubstr("--validation_dataset needs --dataset"));
  result =
      Bnmlp({"train", "--name", "m", "--dataset", "d", "--train_csv", train});
  EXPECT_EQ(result.exit_code, kUsage) << Describe(result);
  EXPECT_THAT(result.stderr_text, HasSubstr("drop --train_csv"));
  result = Bnmlp({"upload", "--csv", train});
  EXPECT_EQ(result.exit_code, kUsage) << Describe(result);
  result = Bnmlp({"upload", "--name", "x", "--csv", train, "--images", train});
  EXPECT_EQ(result.exit_code, kUsage) << Describe(result);
  EXPECT_THAT(result.stderr_text, HasSubstr("not both"));
}

}  // namespace
}  // namespace bnmlp
