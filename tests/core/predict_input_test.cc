#include "core/predict_input.h"

#include <cmath>
#include <string>

#include "core/inference_model.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bnmlp {
namespace {

using ::testing::HasSubstr;

InferenceModel<float> FourInputModel() {
  ModelConfig c;
  c.layer_sizes = {4, 3, 2};
  return InferenceModel<float>::FromModel(*Model<float>::Create(c));
}

TEST(ValidatePredictInputTest, AcceptsFiniteSamplesOfTheModelsWidth) {
  const InferenceModel<float> model = FourInputModel();
  const Matrix<float> x = Matrix<float>::Random(4, 3);
  absl::StatusOr<PredictInput<float>> input =
      ValidatePredictInput(model, ConstMatrixMap<float>(x.data(), 4, 3));
  ASSERT_TRUE(input.ok()) << input.status();
  EXPECT_EQ(input->samples(), 3);
  EXPECT_EQ(input->x().data(), x.data());  // a view, not a copy
}

TEST(ValidatePredictInputTest, NamesTheFieldXAndWhatWasExpected) {
  const InferenceModel<float> model = FourInputModel();
  Matrix<float> x = Matrix<float>::Random(4, 3);
  absl::Status s =
      ValidatePredictInput(model, ConstMatrixMap<float>(x.data(), 3, 4))
          .status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "x: expected shape [N, 4] with N >= 1 (the model has 4 inputs), "
            "got [4, 3]");
  s = ValidatePredictInput(model, ConstMatrixMap<float>(x.data(), 4, 0))
          .status();
  EXPECT_THAT(s.message(), HasSubstr("with N >= 1"));
  EXPECT_THAT(s.message(), HasSubstr("got [0, 4]"));

  x(1, 2) = std::nanf("");
  s = ValidatePredictInput(model, ConstMatrixMap<float>(x.data(), 4, 3))
          .status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "x: expected finite values, got nan at sample 2, feature 1");
  x(1, 2) = 0;
  x(3, 0) = -INFINITY;
  s = ValidatePredictInput(model, ConstMatrixMap<float>(x.data(), 4, 3))
          .status();
  EXPECT_THAT(s.message(), HasSubstr("got -inf at sample 0, feature 3"));
}

// Messages quote positions and one value, whatever the input's size.
TEST(ValidatePredictInputTest, MessagesNeverEchoTheInput) {
  const InferenceModel<float> model = FourInputModel();
  Matrix<float> x = Matrix<float>::Constant(4, 100000, 123456.0f);
  x(2, 99999) = INFINITY;
  const absl::Status s =
      ValidatePredictInput(model, ConstMatrixMap<float>(x.data(), 4, 100000))
          .status();
  EXPECT_THAT(s.message(), HasSubstr("at sample 99999, feature 2"));
  EXPECT_LT(s.message().size(), 100u);
  EXPECT_THAT(s.message(), ::testing::Not(HasSubstr("123456")));
}

TEST(PredictInputTest, FromValidatedViewsARangeOfSamples) {
  ModelConfig c;
  c.layer_sizes = {2, 3};
  const Matrix<float> x = Matrix<float>::Random(2, 10);
  const std::vector<int32_t> labels(10, 1);
  Dataset<float> d;
  new (&d.x) ConstMatrixMap<float>(x.data(), 2, 10);
  d.labels = labels;
  const ValidatedDataset<float> validated = *ValidateDataset(c, d);
  const PredictInput<float> part =
      PredictInput<float>::FromValidated(validated, 4, 3);
  EXPECT_EQ(part.samples(), 3);
  EXPECT_EQ(part.x().rows(), 2);
  EXPECT_EQ(part.x().data(), x.col(4).data());
}

}  // namespace
}  // namespace bnmlp
