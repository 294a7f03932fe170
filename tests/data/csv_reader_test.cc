#include "data/csv_reader.h"

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/data/temp_files.h"

namespace bnmlp::data {
namespace {

using test_files::ReadRawFile;
using test_files::TempDir;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kIris[] =
    "sepal_length,sepal_width,species\n"
    "5.1,3.5,0\n"
    "7.0,3.2,1\n"
    "6.3,3.3,2\n";

CsvOptions Regression(std::vector<int> target_columns = {}) {
  CsvOptions options;
  options.task = CsvTask::kRegression;
  options.target_columns = std::move(target_columns);
  return options;
}

// An INVALID_ARGUMENT whose message names `path` and `line` ("path:line: ")
// and says what was wrong and what was expected.
void ExpectMalformedLine(const absl::Status& status, const std::string& path,
                         int line, const std::string& what) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(std::string(status.message()),
              AllOf(HasSubstr(path + ":" + std::to_string(line) + ": "),
                    HasSubstr(what), HasSubstr("expected")));
}

TEST(ReadCsvTest, LabelIsTheLastColumnAndHeaderIsDetected) {
  TempDir dir;
  absl::StatusOr<Examples> examples = ReadCsv(dir.Write("iris.csv", kIris));
  ASSERT_TRUE(examples.ok()) << examples.status();
  EXPECT_EQ(examples->num_samples, 3);
  EXPECT_EQ(examples->num_features, 2);
  EXPECT_THAT(examples->features,
              ElementsAre(5.1f, 3.5f, 7.0f, 3.2f, 6.3f, 3.3f));
  EXPECT_THAT(examples->labels, ElementsAre(0, 1, 2));
  EXPECT_EQ(examples->num_targets, 0);
  EXPECT_THAT(examples->targets, IsEmpty());
}

TEST(ReadCsvTest, ReadsGzipCompressedFiles) {
  TempDir dir;
  absl::StatusOr<Examples> examples =
      ReadCsv(dir.WriteGzip("iris.csv.gz", kIris));
  ASSERT_TRUE(examples.ok()) << examples.status();
  EXPECT_EQ(examples->num_samples, 3);
  EXPECT_THAT(examples->labels, ElementsAre(0, 1, 2));
}

TEST(ReadCsvTest, LabelColumnCanBeFirst) {
  TempDir dir;
  CsvOptions options;
  options.label_column = 0;
  absl::StatusOr<Examples> examples = ReadCsv(
      dir.Write("mnist.csv", "label,p0,p1\n3,0,255\n7,128,1\n"), options);
  ASSERT_TRUE(examples.ok()) << examples.status();
  EXPECT_THAT(examples->labels, ElementsAre(3, 7));
  EXPECT_THAT(examples->features, ElementsAre(0, 255, 128, 1));
}

TEST(ReadCsvTest, FeatureScaleAppliesToFeaturesOnly) {
  TempDir dir;
  CsvOptions options;
  options.label_column = 0;
  options.feature_scale = 0.5f;
  absl::StatusOr<Examples> examples =
      ReadCsv(dir.Write("data.csv", "3,4,10\n"), options);
  ASSERT_TRUE(examples.ok()) << examples.status();
  EXPECT_THAT(examples->labels, ElementsAre(3));
  EXPECT_THAT(examples->features, ElementsAre(2, 5));
}

TEST(ReadCsvTest, NumericFirstLineIsDataUnlessHeaderIsPresent) {
  TempDir dir;
  const std::string path = dir.Write("data.csv", "0,1,2\n5,6,1\n");
  absl::StatusOr<Examples> automatic = ReadCsv(path);
  ASSERT_TRUE(automatic.ok()) << automatic.status();
  EXPECT_THAT(automatic->labels, ElementsAre(2, 1));

  CsvOptions present;
  present.header = CsvHeader::kPresent;
  absl::StatusOr<Examples> skipped = ReadCsv(path, present);
  ASSERT_TRUE(skipped.ok()) << skipped.status();
  EXPECT_THAT(skipped->labels, ElementsAre(1));
  EXPECT_THAT(skipped->features, ElementsAre(5, 6));
}

TEST(ReadCsvTest, HeaderAbsentMakesANonNumericFirstLineAnError) {
  TempDir dir;
  const std::string path = dir.Write("iris.csv", kIris);
  CsvOptions options;
  options.header = CsvHeader::kAbsent;
  ExpectMalformedLine(ReadCsv(path, options).status(), path, 1,
                      "column 0 ('sepal_length'): expected a finite number");
}

TEST(ReadCsvTest, RegressionTargetIsTheLastColumnByDefault) {
  TempDir dir;
  absl::StatusOr<Examples> examples = ReadCsv(
      dir.Write("houses.csv", "rooms,area,price\n3,70,1.5\n4,95,2.25\n"),
      Regression());
  ASSERT_TRUE(examples.ok()) << examples.status();
  EXPECT_EQ(examples->num_features, 2);
  EXPECT_THAT(examples->features, ElementsAre(3, 70, 4, 95));
  EXPECT_EQ(examples->num_targets, 1);
  EXPECT_THAT(examples->targets, ElementsAre(1.5f, 2.25f));
  EXPECT_THAT(examples->labels, IsEmpty());
}

TEST(ReadCsvTest, RegressionTargetsFollowTheGivenColumnOrder) {
  TempDir dir;
  absl::StatusOr<Examples> examples = ReadCsv(
      dir.Write("multi.csv", "1,2,3,4\n5,6,7,8\n"), Regression({-1, 0}));
  ASSERT_TRUE(examples.ok()) << examples.status();
  EXPECT_EQ(examples->num_features, 2);
  EXPECT_THAT(examples->features, ElementsAre(2, 3, 6, 7));
  EXPECT_EQ(examples->num_targets, 2);
  EXPECT_THAT(examples->targets, ElementsAre(4, 1, 8, 5));
}

TEST(ReadCsvTest, FeaturesOnlyReadsEveryColumnAsAFeature) {
  TempDir dir;
  CsvOptions options;
  options.task = CsvTask::kFeaturesOnly;
  options.feature_scale = 0.5f;
  absl::StatusOr<Examples> examples =
      ReadCsv(dir.Write("inputs.csv", "a,b,c\n1,2,3\n4,5,6\n"), options);
  ASSERT_TRUE(examples.ok()) << examples.status();
  EXPECT_EQ(examples->num_samples, 2);
  EXPECT_EQ(examples->num_features, 3);
  EXPECT_THAT(examples->features, ElementsAre(0.5, 1, 1.5, 2, 2.5, 3));
  EXPECT_THAT(examples->labels, IsEmpty());
  EXPECT_EQ(examples->num_targets, 0);
  EXPECT_THAT(examples->targets, IsEmpty());

  // One column is a valid features-only file (one input per sample).
  options.feature_scale = 1;
  examples = ReadCsv(dir.Write("one.csv", "x\n-1.5\n2\n"), options);
  ASSERT_TRUE(examples.ok()) << examples.status();
  EXPECT_EQ(examples->num_features, 1);
  EXPECT_THAT(examples->features, ElementsAre(-1.5f, 2));
}

TEST(ReadCsvTest, ToleratesWhitespaceCrlfBomBlankLinesAndFloatLabels) {
  TempDir dir;
  absl::StatusOr<Examples> examples = ReadCsv(
      dir.Write("windows.csv",
                "\xEF\xBB\xBFx, y ,label\r\n\r\n 1.5 , -2e1 , 3.0 \r\n\n"
                "+4,.5,0\r\n\r\n"));
  ASSERT_TRUE(examples.ok()) << examples.status();
  EXPECT_THAT(examples->features, ElementsAre(1.5f, -20.0f, 4.0f, 0.5f));
  EXPECT_THAT(examples->labels, ElementsAre(3, 0));
}

TEST(ReadCsvTest, OtherDelimiters) {
  TempDir dir;
  CsvOptions options;
  options.delimiter = '\t';
  absl::StatusOr<Examples> examples =
      ReadCsv(dir.Write("data.tsv", "a\tb\n1.5\t2\n"), options);
  ASSERT_TRUE(examples.ok()) << examples.status();
  EXPECT_THAT(examples->features, ElementsAre(1.5f));
  EXPECT_THAT(examples->labels, ElementsAre(2));
}

TEST(ReadCsvErrorsTest, MissingFileIsNotFound) {
  TempDir dir;
  const std::string path = dir.PathOf("missing.csv");
  const absl::Status status = ReadCsv(path).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(status.message()), HasSubstr(path));
}

TEST(ReadCsvErrorsTest, EmptyFileAndHeaderOnly) {
  TempDir dir;
  const std::string empty = dir.Write("empty.csv", "\n\n");
  absl::Status status = ReadCsv(empty).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              AllOf(HasSubstr(empty), HasSubstr("no data rows"),
                    HasSubstr("the file is empty")));

  const std::string header = dir.Write("header.csv", "a,b\n");
  status = ReadCsv(header).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              AllOf(HasSubstr(header), HasSubstr("no data rows"),
                    HasSubstr("header on line 1")));
}

TEST(ReadCsvErrorsTest, RaggedRow) {
  TempDir dir;
  const std::string path = dir.Write("ragged.csv", "a,b,c\n1,2,0\n\n3,4,5,1\n");
  ExpectMalformedLine(ReadCsv(path).status(), path, 4,
                      "found 4 fields; expected 3 (as on line 2)");
  const std::string short_row = dir.Write("short.csv", "1,2,0\n3,1\n");
  ExpectMalformedLine(ReadCsv(short_row).status(), short_row, 2,
                      "found 2 fields; expected 3");
}

TEST(ReadCsvErrorsTest, NonNumericAndNonFiniteFields) {
  TempDir dir;
  const std::string text = dir.Write("text.csv", "1,2,0\n1,two,0\n");
  ExpectMalformedLine(ReadCsv(text).status(), text, 2,
                      "column 1 ('two'): expected a finite number");
  const std::string empty = dir.Write("empty.csv", "1,2,0\n1,,0\n");
  ExpectMalformedLine(ReadCsv(empty).status(), empty, 2,
                      "column 1 (''): expected a finite number");
  const std::string nan = dir.Write("nan.csv", "1,2,0\nnan,2,0\n");
  ExpectMalformedLine(ReadCsv(nan).status(), nan, 2,
                      "column 0 ('nan'): expected a finite number");
  const std::string inf = dir.Write("inf.csv", "1,2,0\n1,2,1e999\n");
  ExpectMalformedLine(ReadCsv(inf, Regression()).status(), inf, 2,
                      "column 2 ('1e999'): expected a finite number");
}

TEST(ReadCsvErrorsTest, LongFieldsAreCutShortInMessages) {
  TempDir dir;
  const std::string path =
      dir.Write("long.csv", "1,2,0\n1," + std::string(1000, 'x') + ",0\n");
  const absl::Status status = ReadCsv(path).status();
  ExpectMalformedLine(status, path, 2, "'xxxxxxxxxx");
  EXPECT_LT(status.message().size(), 300u);
}

TEST(ReadCsvErrorsTest, BadLabels) {
  TempDir dir;
  for (const std::string label : {"-1", "2.5", "cat", "3000000000", ""}) {
    SCOPED_TRACE(label);
    const std::string path =
        dir.Write("labels.csv", "1,2,0\n1,2," + label + "\n");
    ExpectMalformedLine(
        ReadCsv(path).status(), path, 2,
        "column 2 ('" + label + "'): expected a class label (an integer >= 0)");
  }
}

TEST(ReadCsvErrorsTest, ColumnIndexOutOfRange) {
  TempDir dir;
  const std::string path = dir.Write("data.csv", "1,2,0\n");
  CsvOptions options;
  options.label_column = 3;
  ExpectMalformedLine(ReadCsv(path, options).status(), path, 1,
                      "label_column 3 is out of range for 3 columns "
                      "(delimiter ','); expected -3..2");
  ExpectMalformedLine(ReadCsv(path, Regression({0, -4})).status(), path, 1,
                      "target_columns -4 is out of range");
}

TEST(ReadCsvErrorsTest, DuplicateTargetColumns) {
  TempDir dir;
  const std::string path = dir.Write("data.csv", "1,2,0\n");
  ExpectMalformedLine(ReadCsv(path, Regression({2, -1})).status(), path, 1,
                      "target_columns names column 2 twice");
}

TEST(ReadCsvErrorsTest, NoFeatureColumns) {
  TempDir dir;
  // A semicolon file read with the default ',' has a single column.
  const std::string path = dir.Write("semicolons.csv", "a;b\n1;2\n");
  ExpectMalformedLine(ReadCsv(path).status(), path, 2,
                      "all 1 columns (delimiter ',') are labels or targets");
}

TEST(ReadCsvErrorsTest, BadOptions) {
  TempDir dir;
  const std::string path = dir.Write("data.csv", "1,2,0\n");
  CsvOptions delimiter;
  delimiter.delimiter = '.';
  absl::Status status = ReadCsv(path, delimiter).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              AllOf(HasSubstr("delimiter '.'"), HasSubstr("expected")));

  CsvOptions scale;
  scale.feature_scale = std::nanf("");
  status = ReadCsv(path, scale).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              AllOf(HasSubstr("feature_scale"), HasSubstr("expected")));

  CsvOptions targets;
  targets.target_columns = {0};
  status = ReadCsv(path, targets).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              AllOf(HasSubstr("target_columns"), HasSubstr("classification"),
                    HasSubstr("expected")));

  targets.task = CsvTask::kFeaturesOnly;
  status = ReadCsv(path, targets).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              AllOf(HasSubstr("target_columns"), HasSubstr("features-only"),
                    HasSubstr("expected")));
}

TEST(ReadCsvErrorsTest, TruncatedGzip) {
  TempDir dir;
  const std::string gzip = ReadRawFile(dir.WriteGzip("whole.csv.gz", kIris));
  const std::string path =
      dir.Write("cut.csv.gz", gzip.substr(0, gzip.size() / 2));
  const absl::Status status = ReadCsv(path).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              AllOf(HasSubstr(path), HasSubstr("truncated")));
}

}  // namespace
}  // namespace bnmlp::data
