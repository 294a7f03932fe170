#include "data/fashion_mnist.h"

#include <algorithm>
#include <array>
#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/data/temp_files.h"

namespace bnmlp::data {
namespace {

using test_files::IdxBytes;
using test_files::TempDir;
using ::testing::AllOf;
using ::testing::Each;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::array<int64_t, kFashionMnistClasses> ClassCounts(const Examples& data) {
  std::array<int64_t, kFashionMnistClasses> counts{};
  for (int32_t label : data.labels) {
    if (label >= 0 && label < kFashionMnistClasses) ++counts[label];
  }
  return counts;
}

TEST(FashionMnistTest, PathsFollowTheDebianPackage) {
  const FashionMnistFiles test = FashionMnistPaths(FashionMnistSplit::kTest);
  EXPECT_EQ(test.images,
            "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz");
  EXPECT_EQ(test.labels,
            "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz");
  const FashionMnistFiles train =
      FashionMnistPaths(FashionMnistSplit::kTrain, "/data");
  EXPECT_EQ(train.images, "/data/train-images-idx3-ubyte.gz");
  EXPECT_EQ(train.labels, "/data/train-labels-idx1-ubyte.gz");
}

// The real files, installed by scripts/install-deps.
TEST(FashionMnistTest, LoadsTheTestSplit) {
  absl::StatusOr<Examples> test = LoadFashionMnist(FashionMnistSplit::kTest);
  ASSERT_TRUE(test.ok()) << test.status();
  EXPECT_EQ(test->num_samples, kFashionMnistTestSize);
  EXPECT_EQ(test->num_features, kFashionMnistFeatures);
  ASSERT_EQ(test->features.size(), size_t{10000 * 784});
  ASSERT_EQ(test->labels.size(), size_t{10000});
  EXPECT_THAT(ClassCounts(*test), Each(1000));
  // Ankle boot, pullover, trouser, trouser, shirt.
  EXPECT_THAT(
      std::vector<int32_t>(test->labels.begin(), test->labels.begin() + 5),
      ElementsAre(9, 2, 1, 1, 6));
  const auto [min, max] =
      std::minmax_element(test->features.begin(), test->features.end());
  EXPECT_EQ(*min, 0.0f);
  EXPECT_EQ(*max, 1.0f);
  EXPECT_EQ(test->num_targets, 0);
}

TEST(FashionMnistTest, LoadsTheTrainingSplit) {
  absl::StatusOr<Examples> train = LoadFashionMnist(FashionMnistSplit::kTrain);
  ASSERT_TRUE(train.ok()) << train.status();
  EXPECT_EQ(train->num_samples, kFashionMnistTrainSize);
  EXPECT_EQ(train->num_features, kFashionMnistFeatures);
  EXPECT_EQ(train->features.size(), size_t{60000 * 784});
  EXPECT_THAT(ClassCounts(*train), Each(6000));
}

TEST(FashionMnistTest, MissingFilesAreNotFoundWithAnInstallHint) {
  TempDir dir;
  const absl::Status status =
      LoadFashionMnist(FashionMnistSplit::kTest, dir.path()).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(status.message()),
              AllOf(HasSubstr(dir.path()), HasSubstr("dataset-fashion-mnist")));
}

TEST(FashionMnistTest, RejectsFilesNotShapedLikeFashionMnist) {
  TempDir dir;
  const FashionMnistFiles files =
      FashionMnistPaths(FashionMnistSplit::kTest, dir.path());
  dir.WriteGzip("t10k-images-idx3-ubyte.gz", IdxBytes({2, 2, 2}, "12345678"));
  dir.WriteGzip("t10k-labels-idx1-ubyte.gz", IdxBytes({2}, "\1\2"));
  absl::Status status =
      LoadFashionMnist(FashionMnistSplit::kTest, dir.path()).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              AllOf(HasSubstr(files.images), HasSubstr("4 pixels"),
                    HasSubstr("expected 28 x 28")));

  dir.WriteGzip("t10k-images-idx3-ubyte.gz",
                IdxBytes({2, 28, 28}, std::string(2 * 784, '\0')));
  dir.WriteGzip("t10k-labels-idx1-ubyte.gz", IdxBytes({2}, "\1\12"));
  status = LoadFashionMnist(FashionMnistSplit::kTest, dir.path()).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              AllOf(HasSubstr(files.labels), HasSubstr("label 10 of sample 1"),
                    HasSubstr("expected 0..9")));
}

}  // namespace
}  // namespace bnmlp::data
