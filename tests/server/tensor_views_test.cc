#include "server/tensor_views.h"

#include <limits>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server/server_test_util.h"

namespace bnmlp {
namespace {

using ::bnmlp::testing::MakeTensor;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

void ExpectInvalid(const absl::Status& status, const std::string& substring) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(status.message(), HasSubstr(substring));
}

TEST(SampleMatrixFromTensorTest, ViewsTheProtoBufferWithoutCopying) {
  const v1::Tensor tensor = MakeTensor({3, 2}, {1, 2, 3, 4, 5, 6});
  absl::StatusOr<ConstMatrixMap<float>> x = SampleMatrixFromTensor(tensor, "x");
  ASSERT_TRUE(x.ok()) << x.status();
  EXPECT_EQ(x->data(), tensor.values().data());
  EXPECT_EQ(x->rows(), 2);   // features
  EXPECT_EQ(x->cols(), 3);   // samples
  EXPECT_EQ((*x)(0, 1), 3);  // sample 1, feature 0
  EXPECT_EQ((*x)(1, 2), 6);
}

TEST(SampleMatrixFromTensorTest, EmptyTensorIsAnEmptyView) {
  absl::StatusOr<ConstMatrixMap<float>> x =
      SampleMatrixFromTensor(v1::Tensor(), "targets");
  ASSERT_TRUE(x.ok());
  EXPECT_EQ(x->size(), 0);
}

TEST(SampleMatrixFromTensorTest, RejectsWrongRank) {
  ExpectInvalid(
      SampleMatrixFromTensor(MakeTensor({6}, {1, 2, 3, 4, 5, 6}), "x").status(),
      "x: expected shape [N, features] (rank 2), got rank 1");
  ExpectInvalid(
      SampleMatrixFromTensor(MakeTensor({1, 2, 3}, {1, 2, 3, 4, 5, 6}), "x")
          .status(),
      "rank 3");
  ExpectInvalid(SampleMatrixFromTensor(MakeTensor({}, {1}), "x").status(),
                "rank 0");
}

TEST(SampleMatrixFromTensorTest, AHugeRankIsNotEchoedInFull) {
  const std::vector<int64_t> shape(100000, 1);
  const absl::Status status =
      SampleMatrixFromTensor(MakeTensor(shape, {1}), "x").status();
  ExpectInvalid(status, "(100000 dimensions)");
  EXPECT_LT(status.message().size(), 200u);
}

TEST(SampleMatrixFromTensorTest, RejectsValueCountMismatch) {
  ExpectInvalid(SampleMatrixFromTensor(MakeTensor({3, 2}, {1, 2, 3, 4, 5}),
                                       "validation_x")
                    .status(),
                "validation_x: shape [3, 2] needs shape[0] * shape[1] values");
  ExpectInvalid(SampleMatrixFromTensor(MakeTensor({0, 2}, {1}), "x").status(),
                "got 1");
}

TEST(SampleMatrixFromTensorTest, HugeOrNegativeShapesDoNotOverflow) {
  ExpectInvalid(SampleMatrixFromTensor(
                    MakeTensor({int64_t{1} << 62, 4}, {1, 2, 3, 4}), "x")
                    .status(),
                "needs shape[0] * shape[1] values");
  ExpectInvalid(
      SampleMatrixFromTensor(MakeTensor({std::numeric_limits<int64_t>::max(),
                                         std::numeric_limits<int64_t>::max()},
                                        {1}),
                             "x")
          .status(),
      "x: shape");
  ExpectInvalid(
      SampleMatrixFromTensor(MakeTensor({-2, -3}, {1, 2, 3, 4, 5, 6}), "x")
          .status(),
      "negative dimension");
}

TEST(ShapeOutputTensorTest, ShapesAndExposesTheValues) {
  v1::Tensor tensor;
  MatrixMap<float> view = ShapeOutputTensor(2, 3, &tensor);
  EXPECT_THAT(tensor.shape(), ElementsAre(2, 3));
  ASSERT_EQ(tensor.values_size(), 6);
  EXPECT_EQ(view.data(), tensor.values().data());
  view(2, 1) = 7;  // output 2 of sample 1: row-major [1][2]
  EXPECT_EQ(tensor.values(1 * 3 + 2), 7);
}

TEST(ShapeOutputTensorTest, ReshapesATensorInUse) {
  v1::Tensor tensor = MakeTensor({1, 2}, {5, 6});
  MatrixMap<float> view = ShapeOutputTensor(3, 1, &tensor);
  EXPECT_THAT(tensor.shape(), ElementsAre(3, 1));
  EXPECT_EQ(tensor.values_size(), 3);
  EXPECT_EQ(view.rows(), 1);
  EXPECT_EQ(view.cols(), 3);
}

TEST(CopyToTensorTest, CopiesRowMajorValuesWithTheShape) {
  const float data[] = {1, 2, 3, 4, 5, 6};
  v1::Tensor tensor;
  CopyToTensor(data, {2, 3}, &tensor);
  EXPECT_THAT(tensor.shape(), ElementsAre(2, 3));
  EXPECT_THAT(tensor.values(), ElementsAre(1, 2, 3, 4, 5, 6));
}

}  // namespace
}  // namespace bnmlp
