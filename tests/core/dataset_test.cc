#include "core/dataset.h"

#include <cmath>
#include <limits>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bnmlp {
namespace {

using ::testing::HasSubstr;

ModelConfig Config(Task task) {
  ModelConfig c;
  c.layer_sizes = {3, 4, task == Task::kClassification ? 3 : 2};
  c.task = task;
  return c;
}

struct Data {
  std::vector<float> x = std::vector<float>(3 * 4, 0.5f);  // 4 samples
  std::vector<int32_t> labels = {0, 1, 2, 1};
  std::vector<float> targets = std::vector<float>(2 * 4, 1.0f);

  Dataset<float> Classification(int64_t features = 3) const {
    Dataset<float> d;
    new (&d.x) ConstMatrixMap<float>(x.data(), features, 12 / features);
    d.labels = labels;
    return d;
  }
  Dataset<float> Regression() const {
    Dataset<float> d;
    new (&d.x) ConstMatrixMap<float>(x.data(), 3, 4);
    new (&d.targets) ConstMatrixMap<float>(targets.data(), 2, 4);
    return d;
  }
};

void ExpectInvalid(const absl::StatusOr<ValidatedDataset<float>>& result,
                   const std::string& message) {
  const absl::Status& s = result.status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_THAT(s.message(), HasSubstr(message));
}

TEST(ValidateDatasetTest, AcceptsWellFormedData) {
  Data d;
  EXPECT_TRUE(
      ValidateDataset(Config(Task::kClassification), d.Classification()).ok());
  EXPECT_TRUE(ValidateDataset(Config(Task::kRegression), d.Regression()).ok());
}

TEST(ValidateDatasetTest, TheValidatedViewFitsModelsOfTheSameShapeOnly) {
  Data d;
  const ModelConfig cls = Config(Task::kClassification);
  absl::StatusOr<ValidatedDataset<float>> v =
      ValidateDataset(cls, d.Classification());
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->size(), 4);
  EXPECT_EQ(v->data().x.data(), d.x.data());  // a view, not a copy
  ModelConfig other_hidden = cls;
  other_hidden.layer_sizes = {3, 9, 5, 3};  // hidden sizes do not matter
  EXPECT_TRUE(v->Fits(other_hidden));
  ModelConfig more_classes = cls;
  more_classes.layer_sizes.back() = 4;
  EXPECT_FALSE(v->Fits(more_classes));
  ModelConfig more_inputs = cls;
  more_inputs.layer_sizes.front() = 4;
  EXPECT_FALSE(v->Fits(more_inputs));
  ModelConfig regression = cls;
  regression.task = Task::kRegression;
  EXPECT_FALSE(v->Fits(regression));
}

TEST(ValidateDatasetTest, NamesTheFieldIndexAndExpectation) {
  const ModelConfig cls = Config(Task::kClassification);
  Data d;
  ExpectInvalid(ValidateDataset(cls, d.Classification(4)),
                "x has 4 features per sample; the model's input size is 3");
  Dataset<float> empty;
  new (&empty.x) ConstMatrixMap<float>(d.x.data(), 3, 0);
  ExpectInvalid(ValidateDataset(cls, empty), "x is empty");

  Data nan;
  nan.x[7] = std::nanf("");
  ExpectInvalid(ValidateDataset(cls, nan.Classification()), "x[2][1] is nan");
  Data inf;
  inf.x[0] = std::numeric_limits<float>::infinity();
  ExpectInvalid(ValidateDataset(cls, inf.Classification(), "validation_"),
                "validation_x[0][0] is inf");

  Data label;
  label.labels[3] = 3;
  ExpectInvalid(ValidateDataset(cls, label.Classification()),
                "labels[3] = 3 is not a class index in [0, 3)");
  label.labels[3] = -1;
  ExpectInvalid(ValidateDataset(cls, label.Classification()), "labels[3] = -1");
  Data few;
  few.labels.pop_back();
  ExpectInvalid(ValidateDataset(cls, few.Classification()),
                "labels has 3 entries; x has 4 samples");

  Dataset<float> both = d.Classification();
  new (&both.targets) ConstMatrixMap<float>(d.targets.data(), 2, 4);
  ExpectInvalid(ValidateDataset(cls, both), "this is a classification model");
}

TEST(ValidateDatasetTest, RegressionNeedsTargetsOfTheRightShape) {
  const ModelConfig reg = Config(Task::kRegression);
  Data d;
  ExpectInvalid(ValidateDataset(reg, d.Classification()),
                "this is a regression model");
  Dataset<float> none = d.Regression();
  new (&none.targets) ConstMatrixMap<float>(nullptr, 0, 0);
  ExpectInvalid(ValidateDataset(reg, none), "targets must have shape [4, 2]");
  Data nan;
  nan.targets[5] = std::nanf("");
  ExpectInvalid(ValidateDataset(reg, nan.Regression()), "targets[2][1] is nan");
}

}  // namespace
}  // namespace bnmlp
