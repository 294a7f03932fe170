#include "data/idx_reader.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/data/temp_files.h"

namespace bnmlp::data {
namespace {

using test_files::IdxBytes;
using test_files::ReadRawFile;
using test_files::TempDir;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Three 2x2 images with pixels 0, 1, ..., 9, 255, 128.
const std::string kPixels = {0,
                             1,
                             2,
                             3,
                             4,
                             5,
                             6,
                             7,
                             8,
                             9,
                             static_cast<char>(255),
                             static_cast<char>(128)};

void ExpectMalformedAt(const absl::Status& status, const std::string& path,
                       const std::string& offset, const std::string& what) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(std::string(status.message()),
              AllOf(HasSubstr(path), HasSubstr("byte offset " + offset),
                    HasSubstr(what), HasSubstr("expected")));
}

TEST(ReadIdxImagesTest, ReadsPlainAndGzipImagesScaledToUnit) {
  TempDir dir;
  const std::string idx = IdxBytes({3, 2, 2}, kPixels);
  for (const std::string& path :
       {dir.Write("images", idx), dir.WriteGzip("images.gz", idx)}) {
    absl::StatusOr<Examples> images = ReadIdxImages(path);
    ASSERT_TRUE(images.ok()) << images.status();
    EXPECT_EQ(images->num_samples, 3);
    EXPECT_EQ(images->num_features, 4);
    ASSERT_EQ(images->features.size(), 12u);
    for (size_t i = 0; i < kPixels.size(); ++i) {
      EXPECT_EQ(images->features[i],
                static_cast<float>(static_cast<uint8_t>(kPixels[i])) / 255.0f);
    }
    EXPECT_EQ(images->features[10], 1.0f);
    EXPECT_TRUE(images->labels.empty());
    EXPECT_EQ(images->num_targets, 0);
  }
}

TEST(ReadIdxImagesTest, KeepsRawPixelValuesWithoutScaling) {
  TempDir dir;
  absl::StatusOr<Examples> images =
      ReadIdxImages(dir.Write("images", IdxBytes({3, 2, 2}, kPixels)), false);
  ASSERT_TRUE(images.ok()) << images.status();
  EXPECT_THAT(images->features,
              ElementsAre(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 255, 128));
}

TEST(ReadIdxImagesTest, FlattensAnyNumberOfFeatureDimensions) {
  TempDir dir;
  absl::StatusOr<Examples> rows =
      ReadIdxImages(dir.Write("rows", IdxBytes({2, 6}, kPixels)));
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(rows->num_samples, 2);
  EXPECT_EQ(rows->num_features, 6);
  absl::StatusOr<Examples> cubes =
      ReadIdxImages(dir.Write("cubes", IdxBytes({1, 2, 3, 2}, kPixels)));
  ASSERT_TRUE(cubes.ok()) << cubes.status();
  EXPECT_EQ(cubes->num_samples, 1);
  EXPECT_EQ(cubes->num_features, 12);
}

TEST(ReadIdxLabelsTest, ReadsPlainAndGzipLabels) {
  TempDir dir;
  const std::string idx =
      IdxBytes({4}, std::string{7, 0, 9, static_cast<char>(255)});
  for (const std::string& path :
       {dir.Write("labels", idx), dir.WriteGzip("labels.gz", idx)}) {
    absl::StatusOr<std::vector<int32_t>> labels = ReadIdxLabels(path);
    ASSERT_TRUE(labels.ok()) << labels.status();
    EXPECT_THAT(*labels, ElementsAre(7, 0, 9, 255));
  }
}

TEST(ReadIdxDatasetTest, PairsImagesWithLabels) {
  TempDir dir;
  absl::StatusOr<Examples> examples = ReadIdxDataset(
      dir.WriteGzip("images.gz", IdxBytes({3, 2, 2}, kPixels)),
      dir.WriteGzip("labels.gz", IdxBytes({3}, std::string{2, 0, 1})));
  ASSERT_TRUE(examples.ok()) << examples.status();
  EXPECT_EQ(examples->num_samples, 3);
  EXPECT_EQ(examples->num_features, 4);
  EXPECT_EQ(examples->features[1], 1 / 255.0f);
  EXPECT_THAT(examples->labels, ElementsAre(2, 0, 1));
}

TEST(ReadIdxDatasetTest, CountMismatchNamesBothFiles) {
  TempDir dir;
  const std::string images = dir.Write("images", IdxBytes({3, 2, 2}, kPixels));
  const std::string labels =
      dir.Write("labels", IdxBytes({2}, std::string{1, 2}));
  absl::StatusOr<Examples> examples = ReadIdxDataset(images, labels);
  EXPECT_EQ(examples.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(
      std::string(examples.status().message()),
      AllOf(HasSubstr(images), HasSubstr("3 images"), HasSubstr(labels),
            HasSubstr("2 labels"), HasSubstr("expected one label per image")));
}

TEST(ReadIdxDatasetTest, MissingFilesAreNotFound) {
  TempDir dir;
  const std::string labels = dir.Write("labels", IdxBytes({1}, std::string{1}));
  const std::string missing = dir.PathOf("missing-images");
  absl::StatusOr<Examples> examples = ReadIdxDataset(missing, labels);
  EXPECT_EQ(examples.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(examples.status().message()), HasSubstr(missing));
  EXPECT_EQ(ReadIdxLabels(missing).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(IdxErrorsTest, EmptyFile) {
  TempDir dir;
  const std::string path = dir.Write("empty", "");
  ExpectMalformedAt(ReadIdxImages(path).status(), path, "0",
                    "file ends after 0 bytes");
}

TEST(IdxErrorsTest, BadMagic) {
  TempDir dir;
  const std::string path = dir.Write("text", "P5\n28 28\n255\n");
  ExpectMalformedAt(ReadIdxImages(path).status(), path, "0",
                    "bad IDX magic number 0x50350a32");
}

TEST(IdxErrorsTest, UnsupportedTypeCode) {
  TempDir dir;
  const std::string path =
      dir.Write("floats", IdxBytes({1, 1}, std::string(4, '\0'), 0x0D));
  ExpectMalformedAt(ReadIdxImages(path).status(), path, "2",
                    "type code 0x0d (float32) is not supported");
}

TEST(IdxErrorsTest, ZeroDimensionCount) {
  TempDir dir;
  const std::string path = dir.Write("nodims", IdxBytes({}, "abc"));
  ExpectMalformedAt(ReadIdxLabels(path).status(), path, "3",
                    "dimension count is 0");
}

TEST(IdxErrorsTest, TruncatedHeader) {
  TempDir dir;
  const std::string idx = IdxBytes({3, 2, 2}, "");
  const std::string path = dir.Write("cut", idx.substr(0, 10));
  ExpectMalformedAt(
      ReadIdxImages(path).status(), path, "10",
      "header ends early: the file has only 10 bytes; expected a 16-byte "
      "header for 3 dimensions");
}

TEST(IdxErrorsTest, ZeroDimension) {
  TempDir dir;
  const std::string path = dir.Write("zero", IdxBytes({3, 0, 2}, ""));
  ExpectMalformedAt(ReadIdxImages(path).status(), path, "8",
                    "dimension 1 is 0");
}

TEST(IdxErrorsTest, TruncatedData) {
  TempDir dir;
  const std::string path =
      dir.Write("short", IdxBytes({3, 2, 2}, kPixels.substr(0, 11)));
  ExpectMalformedAt(ReadIdxImages(path).status(), path, "27",
                    "data ends early: the file has 11 bytes after the 16-byte "
                    "header; expected 12 (the header's dimensions 3 x 2 x 2)");
}

TEST(IdxErrorsTest, TrailingData) {
  TempDir dir;
  const std::string path = dir.Write("long", IdxBytes({2}, "\x01\x02\x03"));
  ExpectMalformedAt(ReadIdxLabels(path).status(), path, "10",
                    "unexpected trailing data: the file has 3 bytes after the "
                    "8-byte header; expected 2");
}

TEST(IdxErrorsTest, HugeHeaderIsRejectedAgainstTheRealSize) {
  TempDir dir;
  const std::string huge =
      dir.Write("huge", IdxBytes({1u << 31, 1u << 31}, kPixels));
  ExpectMalformedAt(ReadIdxImages(huge).status(), huge, "24",
                    "expected 4611686018427387904 (the header's dimensions "
                    "2147483648 x 2147483648)");
  // Beyond int64_t: must not overflow into a plausible size.
  const std::string overflow = dir.Write(
      "overflow", IdxBytes({0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}, kPixels));
  ExpectMalformedAt(ReadIdxImages(overflow).status(), overflow, "28",
                    "expected more than 2^63");
}

TEST(IdxErrorsTest, OffsetsOfGzipFilesReferToTheDecompressedData) {
  TempDir dir;
  const std::string path =
      dir.WriteGzip("short.gz", IdxBytes({3, 2, 2}, kPixels.substr(0, 5)));
  ExpectMalformedAt(ReadIdxImages(path).status(), path,
                    "21 of the decompressed data", "data ends early");
}

TEST(IdxErrorsTest, TruncatedGzip) {
  TempDir dir;
  const std::string gzip =
      ReadRawFile(dir.WriteGzip("whole.gz", IdxBytes({3, 2, 2}, kPixels)));
  const std::string path = dir.Write("cut.gz", gzip.substr(0, gzip.size() - 6));
  const absl::Status status = ReadIdxImages(path).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              AllOf(HasSubstr(path), HasSubstr("compressed byte offset"),
                    HasSubstr("truncated")));
}

TEST(IdxErrorsTest, CorruptGzip) {
  TempDir dir;
  std::string gzip =
      ReadRawFile(dir.WriteGzip("whole.gz", IdxBytes({3, 2, 2}, kPixels)));
  gzip[gzip.size() - 3] ^= 0x10;  // the length in the trailer
  const std::string path = dir.Write("corrupt.gz", gzip);
  const absl::Status status = ReadIdxLabels(path).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              AllOf(HasSubstr(path), HasSubstr("corrupt gzip data")));
}

TEST(IdxErrorsTest, LabelsFileReadAsImagesAndViceVersa) {
  TempDir dir;
  const std::string labels = dir.Write("labels", IdxBytes({2}, "\1\2"));
  ExpectMalformedAt(ReadIdxImages(labels).status(), labels, "3",
                    "is this a labels file?");
  const std::string images = dir.Write("images", IdxBytes({3, 2, 2}, kPixels));
  ExpectMalformedAt(ReadIdxLabels(images).status(), images, "3",
                    "is this an images file?");
}

}  // namespace
}  // namespace bnmlp::data
