#include "client/cli/dataset_loading.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/client/test_files.h"

namespace bnmlp::cli {
namespace {

using client_testing::IdxBytes;
using client_testing::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(DatasetLoadingTest, PredictionCsvWithLabelColumnGivesLabels) {
  TempDir dir;
  const std::string path =
      dir.Write("labelled.csv", "a,b,label\n1,2,0\n3,4,2\n");
  absl::StatusOr<data::Examples> examples =
      LoadPredictionExamples({path, "", ""}, data::CsvOptions(), 2);
  ASSERT_TRUE(examples.ok()) << examples.status();
  EXPECT_EQ(examples->num_features, 2);
  EXPECT_THAT(examples->features, ElementsAre(1, 2, 3, 4));
  EXPECT_THAT(examples->labels, ElementsAre(0, 2));
}

TEST(DatasetLoadingTest, PredictionCsvWithoutLabelsKeepsEveryColumnInPlace) {
  TempDir dir;
  const std::string path = dir.Write("features.csv", "1,2,3\n4,5,6\n");
  data::CsvOptions options;
  options.label_column = 0;  // Would be the label, were there one.
  options.feature_scale = 0.5f;
  absl::StatusOr<data::Examples> examples =
      LoadPredictionExamples({path, "", ""}, options, 3);
  ASSERT_TRUE(examples.ok()) << examples.status();
  EXPECT_EQ(examples->num_features, 3);
  EXPECT_THAT(examples->features, ElementsAre(0.5, 1, 1.5, 2, 2.5, 3));
  EXPECT_TRUE(examples->labels.empty());
}

TEST(DatasetLoadingTest, PredictionCsvWithOneColumnPerSample) {
  TempDir dir;
  // A one-input model: one column is the feature alone, two add the label.
  absl::StatusOr<data::Examples> unlabelled = LoadPredictionExamples(
      {dir.Write("x.csv", "x\n0.5\n-2\n"), "", ""}, data::CsvOptions(), 1);
  ASSERT_TRUE(unlabelled.ok()) << unlabelled.status();
  EXPECT_EQ(unlabelled->num_features, 1);
  EXPECT_THAT(unlabelled->features, ElementsAre(0.5, -2));
  EXPECT_TRUE(unlabelled->labels.empty());

  absl::StatusOr<data::Examples> labelled = LoadPredictionExamples(
      {dir.Write("xy.csv", "0.5,1\n-2,0\n"), "", ""}, data::CsvOptions(), 1);
  ASSERT_TRUE(labelled.ok()) << labelled.status();
  EXPECT_THAT(labelled->features, ElementsAre(0.5, -2));
  EXPECT_THAT(labelled->labels, ElementsAre(1, 0));
}

TEST(DatasetLoadingTest, PredictionCsvLabelColumnOutOfRangeNamesTheOption) {
  TempDir dir;
  data::CsvOptions options;
  options.label_column = 7;
  absl::StatusOr<data::Examples> examples = LoadPredictionExamples(
      {dir.Write("l.csv", "1,2,0\n"), "", ""}, options, 2);
  EXPECT_EQ(examples.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(examples.status().message(),
              HasSubstr("label_column 7 is out of range for 3 columns"));
}

TEST(DatasetLoadingTest, PredictionCsvForRegressionKeepsTargets) {
  TempDir dir;
  const std::string path = dir.Write("r.csv", "1,2,0.5,7\n3,4,1.5,8\n");
  data::CsvOptions options;
  options.task = data::CsvTask::kRegression;
  options.target_columns = {2, 3};
  absl::StatusOr<data::Examples> examples =
      LoadPredictionExamples({path, "", ""}, options, 2);
  ASSERT_TRUE(examples.ok()) << examples.status();
  EXPECT_THAT(examples->features, ElementsAre(1, 2, 3, 4));
  EXPECT_EQ(examples->num_targets, 2);
  EXPECT_THAT(examples->targets, ElementsAre(0.5, 7, 1.5, 8));
}

TEST(DatasetLoadingTest, PredictionCsvWithWrongColumnCountSaysWhatFits) {
  TempDir dir;
  const std::string path = dir.Write("wide.csv", "1,2,3,4,5\n");
  absl::StatusOr<data::Examples> examples =
      LoadPredictionExamples({path, "", ""}, data::CsvOptions(), 2);
  EXPECT_EQ(examples.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(examples.status().message(),
              HasSubstr("wide.csv: rows have 5 columns, but the model takes 2 "
                        "features: expected 2 columns (features only) or 3"));
}

TEST(DatasetLoadingTest, PredictionCsvRejectsFractionalLabels) {
  TempDir dir;
  const std::string path = dir.Write("bad.csv", "1,2,0\n3,4,2.5\n");
  absl::StatusOr<data::Examples> examples =
      LoadPredictionExamples({path, "", ""}, data::CsvOptions(), 2);
  EXPECT_EQ(examples.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(examples.status().message(),
              HasSubstr("bad.csv: data row 2: label 2.5 is not a class index"));
}

TEST(DatasetLoadingTest, ReaderErrorsPassThroughNamingTheFile) {
  TempDir dir;
  const std::string path = dir.Write("broken.csv", "1,2,0\n3,x,1\n");
  absl::StatusOr<data::Examples> examples =
      LoadTrainingExamples({path, "", ""}, data::CsvOptions());
  EXPECT_EQ(examples.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(examples.status().message(), HasSubstr("broken.csv"));
  EXPECT_EQ(LoadTrainingExamples({dir.path() + "/missing.csv", "", ""}, {})
                .status()
                .code(),
            absl::StatusCode::kNotFound);
}

TEST(DatasetLoadingTest, IdxImagesNeedLabelsToTrainButNotToPredict) {
  TempDir dir;
  const std::string images = dir.Write(
      "images.idx", IdxBytes({2, 2, 2}, {0, 255, 0, 255, 255, 0, 255, 0}));
  const std::string labels = dir.Write("labels.idx", IdxBytes({2}, {1, 0}));
  EXPECT_EQ(LoadTrainingExamples({"", images, ""}, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  absl::StatusOr<data::Examples> train =
      LoadTrainingExamples({"", images, labels}, {});
  ASSERT_TRUE(train.ok()) << train.status();
  EXPECT_THAT(train->labels, ElementsAre(1, 0));
  EXPECT_THAT(train->features, ElementsAre(0, 1, 0, 1, 1, 0, 1, 0));
  absl::StatusOr<data::Examples> unlabelled =
      LoadPredictionExamples({"", images, ""}, {}, 4);
  ASSERT_TRUE(unlabelled.ok()) << unlabelled.status();
  EXPECT_EQ(unlabelled->num_samples, 2);
  EXPECT_TRUE(unlabelled->labels.empty());
}

TEST(DatasetLoadingTest, KeepFirstSamplesTruncatesEveryArray) {
  data::Examples examples;
  examples.num_samples = 3;
  examples.num_features = 2;
  examples.features = {1, 2, 3, 4, 5, 6};
  examples.labels = {0, 1, 2};
  KeepFirstSamples(2, &examples);
  EXPECT_EQ(examples.num_samples, 2);
  EXPECT_THAT(examples.features, ElementsAre(1, 2, 3, 4));
  EXPECT_THAT(examples.labels, ElementsAre(0, 1));
  KeepFirstSamples(0, &examples);  // 0: keep all.
  EXPECT_EQ(examples.num_samples, 2);
}

TEST(DatasetLoadingTest, DescribesSources) {
  EXPECT_EQ((DataFiles{"-", "", ""}).Describe(), "stdin");
  EXPECT_EQ((DataFiles{"", "i.idx", "l.idx"}).Describe(), "i.idx + l.idx");
}

// Three samples of two features, labelled 0, 9 and 12.
data::Examples LabelledUpTo12() {
  data::Examples examples;
  examples.num_samples = 3;
  examples.num_features = 2;
  examples.features = {1, 2, 3, 4, 5, 6};
  examples.labels = {0, 9, 12};
  return examples;
}

ModelShape TenClassModel() { return {"m", 2, 10, true}; }

TEST(CheckExamplesFitModelTest, ALabelOutOfRangeNamesFileRowAndClassCount) {
  const absl::Status status = CheckExamplesFitModel(
      LabelledUpTo12(), {"labels.csv", "", ""}, TenClassModel());
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "labels.csv: data row 3 has class 12, which does not fit model "
            "'m': it has 10 classes (0 to 9)");
}

TEST(CheckExamplesFitModelTest, IdxDataNamesItsLabelsFile) {
  const absl::Status status = CheckExamplesFitModel(
      LabelledUpTo12(), {"", "images.idx", "labels.idx"}, TenClassModel());
  EXPECT_THAT(std::string(status.message()),
              ::testing::StartsWith("labels.idx: data row 3 has class 12"));
}

TEST(CheckExamplesFitModelTest, LabelsInRangeFit) {
  data::Examples examples = LabelledUpTo12();
  examples.labels = {0, 9, 5};
  EXPECT_TRUE(
      CheckExamplesFitModel(examples, {"a.csv", "", ""}, TenClassModel()).ok());
  examples.labels.clear();  // Unlabelled prediction input.
  EXPECT_TRUE(
      CheckExamplesFitModel(examples, {"a.csv", "", ""}, TenClassModel()).ok());
}

TEST(CheckExamplesFitModelTest, AFeatureCountMismatchNamesBothCounts) {
  const absl::Status status = CheckExamplesFitModel(
      LabelledUpTo12(), {"wide.csv", "", ""}, {"m", 3, 10, true});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "wide.csv has 2 features per sample, but model 'm' takes 3 inputs");
}

TEST(CheckExamplesFitModelTest, RegressionTargetsMustMatchTheOutputs) {
  data::Examples examples;
  examples.num_samples = 1;
  examples.num_features = 2;
  examples.features = {1, 2};
  examples.num_targets = 2;
  examples.targets = {3, 4};
  EXPECT_TRUE(
      CheckExamplesFitModel(examples, {"t.csv", "", ""}, {"r", 2, 2, false})
          .ok());
  const absl::Status status =
      CheckExamplesFitModel(examples, {"t.csv", "", ""}, {"r", 2, 1, false});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "t.csv has 2 target columns, which does not fit model 'r': it has "
            "1 output");
}

}  // namespace
}  // namespace bnmlp::cli
