#include "core/stored_dataset.h"

#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bnmlp {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

RowLayout Labels(int64_t features) {
  return RowLayout{features, TargetKind::kClassLabels, 0};
}
RowLayout Values(int64_t features, int64_t width) {
  return RowLayout{features, TargetKind::kValues, width};
}

ModelConfig Config(int64_t inputs, int64_t outputs, Task task) {
  ModelConfig config;
  config.layer_sizes = {inputs, 4, outputs};
  config.task = task;
  return config;
}

// Row-major rows [n, width] as the (width x n) map the builder takes: a
// view, so `values` must outlive it (and the Chunk built from it).
ConstMatrixMap<float> Rows(const std::vector<float>& values, int64_t width) {
  return ConstMatrixMap<float>(values.data(), width,
                               static_cast<int64_t>(values.size()) / width);
}

Dataset<float> Chunk(const std::vector<float>& x, int64_t features,
                     const std::vector<int32_t>& labels) {
  Dataset<float> rows;
  new (&rows.x) ConstMatrixMap<float>(Rows(x, features));
  rows.labels = labels;
  return rows;
}

TEST(RowLayoutTest, RejectsWidthsOutOfRangeNamingTheField) {
  EXPECT_TRUE(ValidateRowLayout(Labels(3)).ok());
  EXPECT_TRUE(ValidateRowLayout(Values(3, 2)).ok());
  absl::Status s = ValidateRowLayout(Labels(0));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("features"));
  s = ValidateRowLayout(Values(3, 0));
  EXPECT_THAT(s.message(), HasSubstr("target_width"));
  s = ValidateRowLayout(RowLayout{3, TargetKind::kClassLabels, 2});
  EXPECT_THAT(s.message(), HasSubstr("must be 0 for class labels"));
}

TEST(RowLayoutTest, BytesPerRowCountsFeaturesAndTargets) {
  EXPECT_EQ(Labels(784).BytesPerRow(), (784 + 1) * 4);
  EXPECT_EQ(Values(3, 2).BytesPerRow(), 5 * 4);
}

TEST(DatasetBuilderTest, ChunksAppendInOrder) {
  absl::StatusOr<DatasetBuilder> builder = DatasetBuilder::Create(Labels(2));
  ASSERT_TRUE(builder.ok()) << builder.status();
  ASSERT_TRUE(builder->AppendRows(Chunk({1, 2, 3, 4}, 2, {0, 3})).ok());
  ASSERT_TRUE(builder->AppendRows(Chunk({5, 6}, 2, {1})).ok());
  absl::StatusOr<StoredDataset> data = std::move(*builder).Finish();
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(data->rows(), 3);
  EXPECT_EQ(data->classes(), 4);
  EXPECT_EQ(data->bytes(), 3 * 3 * 4);
  EXPECT_THAT(data->features(), ElementsAre(1, 2, 3, 4, 5, 6));
  EXPECT_THAT(data->labels(), ElementsAre(0, 3, 1));
  EXPECT_TRUE(data->targets().empty());
}

TEST(DatasetBuilderTest, ANonFiniteValueNamesItsRowInTheWholeSet) {
  absl::StatusOr<DatasetBuilder> builder = DatasetBuilder::Create(Labels(2));
  ASSERT_TRUE(builder.ok());
  ASSERT_TRUE(builder->AppendRows(Chunk({1, 2, 3, 4}, 2, {0, 1})).ok());
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const absl::Status s = builder->AppendRows(Chunk({5, 6, 7, nan}, 2, {0, 1}));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("x[3][1]"));
  // The rejected chunk left nothing behind.
  EXPECT_EQ(builder->feature_rows(), 2);
  EXPECT_EQ(builder->target_rows(), 2);
  absl::StatusOr<StoredDataset> data = std::move(*builder).Finish();
  ASSERT_TRUE(data.ok());
  EXPECT_THAT(data->features(), ElementsAre(1, 2, 3, 4));
}

TEST(DatasetBuilderTest, ANegativeLabelNamesItsRow) {
  absl::StatusOr<DatasetBuilder> builder = DatasetBuilder::Create(Labels(1));
  ASSERT_TRUE(builder.ok());
  ASSERT_TRUE(builder->AppendRows(Chunk({1, 2}, 1, {0, 1})).ok());
  const absl::Status s = builder->AppendRows(Chunk({3, 4}, 1, {2, -1}));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("labels[3] = -1"));
  EXPECT_EQ(builder->feature_rows(), 2);
}

TEST(DatasetBuilderTest, RejectsChunksOfTheWrongShapeOrKind) {
  absl::StatusOr<DatasetBuilder> builder = DatasetBuilder::Create(Labels(2));
  ASSERT_TRUE(builder.ok());
  EXPECT_THAT(builder->AppendRows(Chunk({1, 2, 3}, 3, {0})).message(),
              HasSubstr("x has 3 features per row; the dataset has 2"));
  EXPECT_THAT(builder->AppendRows(Chunk({1, 2, 3, 4}, 2, {0})).message(),
              HasSubstr("labels covers 1 rows; x has 2"));
  const std::vector<float> one_row = {1, 2};
  Dataset<float> with_targets = Chunk(one_row, 2, {});
  const std::vector<float> targets = {1};
  new (&with_targets.targets) ConstMatrixMap<float>(Rows(targets, 1));
  EXPECT_THAT(builder->AppendRows(with_targets).message(),
              HasSubstr("holds class labels, not target values"));
  EXPECT_EQ(builder->feature_rows(), 0);
}

TEST(DatasetBuilderTest, RegressionTargetsAreCheckedAndKept) {
  absl::StatusOr<DatasetBuilder> builder = DatasetBuilder::Create(Values(1, 2));
  ASSERT_TRUE(builder.ok());
  const std::vector<float> x = {1, 2};
  Dataset<float> rows = Chunk(x, 1, {});
  const std::vector<float> targets = {0.5f, 1.5f, 2.5f, 3.5f};
  new (&rows.targets) ConstMatrixMap<float>(Rows(targets, 2));
  ASSERT_TRUE(builder->AppendRows(rows).ok());
  const std::vector<float> bad_x = {3};
  Dataset<float> bad = Chunk(bad_x, 1, {});
  const std::vector<float> inf = {1, std::numeric_limits<float>::infinity()};
  new (&bad.targets) ConstMatrixMap<float>(Rows(inf, 2));
  EXPECT_THAT(builder->AppendRows(bad).message(), HasSubstr("targets[2][1]"));
  absl::StatusOr<StoredDataset> data = std::move(*builder).Finish();
  ASSERT_TRUE(data.ok());
  EXPECT_THAT(data->targets(), ElementsAreArray(targets));
  EXPECT_EQ(data->classes(), 0);
}

TEST(DatasetBuilderTest, ExpectedRowsAreEnforcedBothWays) {
  absl::StatusOr<DatasetBuilder> builder = DatasetBuilder::Create(Labels(1), 2);
  ASSERT_TRUE(builder.ok());
  EXPECT_THAT(builder->AppendRows(Chunk({1, 2, 3}, 1, {0, 0, 0})).message(),
              HasSubstr("expected_rows announced 2"));
  ASSERT_TRUE(builder->AppendRows(Chunk({1}, 1, {0})).ok());
  absl::StatusOr<StoredDataset> short_data = std::move(*builder).Finish();
  EXPECT_THAT(short_data.status().message(),
              HasSubstr("1 rows arrived; expected_rows announced 2"));
}

TEST(DatasetBuilderTest, AnEmptyDatasetIsRefused) {
  absl::StatusOr<DatasetBuilder> builder = DatasetBuilder::Create(Labels(1));
  ASSERT_TRUE(builder.ok());
  EXPECT_EQ(std::move(*builder).Finish().status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(DatasetBuilderTest, FeaturesAndLabelsMayArriveSeparately) {
  absl::StatusOr<DatasetBuilder> builder = DatasetBuilder::Create(Labels(1));
  ASSERT_TRUE(builder.ok());
  const std::vector<float> x = {1, 2, 3};
  ASSERT_TRUE(builder->AppendFeatures(Rows(x, 1)).ok());
  ASSERT_TRUE(builder->AppendLabels(std::vector<int32_t>{2, 0}).ok());
  EXPECT_FALSE(std::move(*builder).Finish().ok());  // 3 rows, 2 labels
}

StoredDataset MakeClassificationSet() {
  absl::StatusOr<DatasetBuilder> builder = DatasetBuilder::Create(Labels(2));
  EXPECT_TRUE(builder.ok());
  EXPECT_TRUE(
      builder->AppendRows(Chunk({1, 2, 3, 4, 5, 6}, 2, {0, 2, 1})).ok());
  return *std::move(*builder).Finish();
}

TEST(StoredDatasetTest, FitToViewsTheRowsWithoutCopying) {
  const StoredDataset data = MakeClassificationSet();
  absl::StatusOr<ValidatedDataset<float>> view =
      data.FitTo(Config(2, 3, Task::kClassification), "dataset 'd'");
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_EQ(view->size(), 3);
  EXPECT_EQ(view->data().x.data(), data.features().data());
  EXPECT_EQ(view->data().x(1, 2), 6);
  EXPECT_TRUE(view->Fits(Config(2, 3, Task::kClassification)));
}

TEST(StoredDatasetTest, FitToNamesWhatDoesNotFit) {
  const StoredDataset data = MakeClassificationSet();
  EXPECT_THAT(
      data.FitTo(Config(3, 3, Task::kClassification), "dataset 'd'")
          .status()
          .message(),
      HasSubstr("dataset 'd' has 2 features per row; the model's input size "
                "is 3"));
  EXPECT_THAT(data.FitTo(Config(2, 2, Task::kClassification), "dataset 'd'")
                  .status()
                  .message(),
              HasSubstr("labels[1] = 2 is not a class index in [0, 2)"));
  EXPECT_THAT(data.FitTo(Config(2, 3, Task::kRegression), "dataset 'd'")
                  .status()
                  .message(),
              HasSubstr("holds class labels, but the model is a regression"));
}

}  // namespace
}  // namespace bnmlp
