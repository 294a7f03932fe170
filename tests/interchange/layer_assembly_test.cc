#include "interchange/layer_assembly.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bnmlp {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kMax = int64_t{1} << 31;

Step Product(int64_t out, int64_t in, bool bias, const std::string& label) {
  Step s;
  s.kind = StepKind::kProduct;
  s.label = label;
  s.out = out;
  s.in = in;
  for (int64_t i = 0; i < out * in; ++i) s.weight.push_back(0.01f * i);
  if (bias) s.bias.assign(out, 0.5f);
  return s;
}

Step BatchNorm(int64_t width, const std::string& label, float eps = 1e-5f) {
  Step s;
  s.kind = StepKind::kBatchNorm;
  s.label = label;
  s.scale.assign(width, 2.0f);
  s.shift.assign(width, 0.1f);
  s.mean.assign(width, 1.0f);
  s.var.assign(width, 4.0f);
  s.epsilon = eps;
  return s;
}

Step Act(Activation a, const std::string& label) {
  Step s;
  s.kind = StepKind::kActivation;
  s.label = label;
  s.activation = a;
  return s;
}

Step Softmax(const std::string& label) {
  Step s;
  s.kind = StepKind::kSoftmax;
  s.label = label;
  return s;
}

TEST(AssembleModelTest, RecognizesEachArrangement) {
  struct Case {
    std::vector<Step> hidden_tail;
    bool bias;
    Normalization normalization;
    Activation activation;
  };
  const std::vector<Case> cases = {
      {{BatchNorm(3, "bn"), Act(Activation::kRelu, "a")},
       false,
       Normalization::kPreActivation,
       Activation::kRelu},
      {{Act(Activation::kTanh, "a"), BatchNorm(3, "bn")},
       true,
       Normalization::kPostActivation,
       Activation::kTanh},
      {{Act(Activation::kSigmoid, "a")},
       true,
       Normalization::kNone,
       Activation::kSigmoid},
      {{}, true, Normalization::kNone, Activation::kIdentity},
      // BatchNorm alone: pre-activation without bias, post with one.
      {{BatchNorm(3, "bn")},
       false,
       Normalization::kPreActivation,
       Activation::kIdentity},
      {{BatchNorm(3, "bn")},
       true,
       Normalization::kPostActivation,
       Activation::kIdentity},
  };
  for (const Case& c : cases) {
    std::vector<Step> steps = {Product(3, 2, c.bias, "p0")};
    steps.insert(steps.end(), c.hidden_tail.begin(), c.hidden_tail.end());
    steps.push_back(Product(2, 3, true, "p1"));
    absl::StatusOr<Model<float>> model = AssembleModel(steps, kMax);
    ASSERT_TRUE(model.ok()) << model.status();
    EXPECT_EQ(model->config().normalization, c.normalization);
    EXPECT_EQ(model->config().activation, c.activation);
    EXPECT_EQ(model->config().task, Task::kRegression);
    EXPECT_EQ(model->config().layer_sizes, (std::vector<int64_t>{2, 3, 2}));
  }
}

TEST(AssembleModelTest, PlacesParametersInBnmlpsLayout) {
  const std::vector<Step> steps = {
      Product(3, 2, true, "p0"), BatchNorm(3, "bn"),
      Act(Activation::kRelu, "a"), Product(2, 3, false, "p1"), Softmax("sm")};
  absl::StatusOr<Model<float>> model = AssembleModel(steps, kMax);
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ(model->config().task, Task::kClassification);
  const LayerParameters<float>& hidden = model->layer(0);
  EXPECT_FALSE(hidden.has_bias());
  EXPECT_FLOAT_EQ(hidden.weight(1, 0), 0.02f);  // row-major [out, in]
  EXPECT_EQ(hidden.gamma, Vector<float>::Constant(3, 2.0f));
  // The product's bias 0.5 moved into the running mean 1.
  EXPECT_EQ(hidden.running_mean, Vector<float>::Constant(3, 0.5f));
  EXPECT_EQ(model->layer(1).bias, Vector<float>::Zero(2));
}

TEST(AssembleModelTest, ConvertsEpsilonAndMomentumToPyTorchsTerms) {
  Step bn = BatchNorm(3, "bn");
  bn.momentum = 0.9f;
  const std::vector<Step> steps = {Product(3, 2, false, "p0"), bn,
                                   Product(2, 3, true, "p1")};
  absl::StatusOr<Model<float>> model = AssembleModel(steps, kMax);
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ(model->config().batch_norm_epsilon, 1e-5);
  EXPECT_EQ(model->config().batch_norm_momentum, 0.1);
}

TEST(AssembleModelTest, ASingleProductIsALinearModel) {
  absl::StatusOr<Model<float>> model =
      AssembleModel({Product(4, 3, true, "p0"), Softmax("sm")}, kMax);
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ(model->config().normalization, Normalization::kNone);
  EXPECT_EQ(model->config().activation, Activation::kIdentity);
  EXPECT_EQ(model->config().layer_sizes, (std::vector<int64_t>{3, 4}));
}

void ExpectInvalid(const std::vector<Step>& steps, const std::string& message) {
  const absl::StatusOr<Model<float>> model = AssembleModel(steps, kMax);
  ASSERT_FALSE(model.ok()) << "expected an error containing " << message;
  EXPECT_EQ(model.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(model.status().message(), HasSubstr(message));
}

TEST(AssembleModelTest, RefusesWhatBnmlpCannotRepresent) {
  ExpectInvalid({}, "no operations");
  ExpectInvalid({Act(Activation::kRelu, "first"), Product(2, 2, true, "p")},
                "first: comes before the first product");
  ExpectInvalid(
      {Product(3, 2, true, "p0"), Softmax("mid"), Product(2, 3, true, "p1")},
      "mid: Softmax before the last product");
  ExpectInvalid({Product(2, 2, true, "p0"), Act(Activation::kRelu, "after")},
                "after: follows the last product");
  ExpectInvalid({Product(3, 2, true, "p0"), BatchNorm(3, "bn1"),
                 BatchNorm(3, "bn2"), Product(2, 3, true, "p1")},
                "bn2: a hidden layer is a product followed by");
  ExpectInvalid({Product(3, 2, true, "p0"), Act(Activation::kRelu, "a"),
                 BatchNorm(3, "bn"), Act(Activation::kRelu, "b"),
                 Product(2, 3, true, "p1")},
                "b: a hidden layer is");
}

TEST(AssembleModelTest, RefusesHiddenLayersThatDisagree) {
  ExpectInvalid({Product(3, 2, true, "p0"), Act(Activation::kRelu, "a"),
                 Product(3, 3, true, "p1"), Act(Activation::kTanh, "b"),
                 Product(2, 3, true, "p2")},
                "p1: starts hidden layer 2, which has tanh alone where hidden "
                "layer 1 has relu alone");
  ExpectInvalid({Product(3, 2, false, "p0"), BatchNorm(3, "bn"),
                 Act(Activation::kRelu, "a"), Product(3, 3, true, "p1"),
                 Act(Activation::kRelu, "b"), BatchNorm(3, "bn2"),
                 Product(2, 3, true, "p2")},
                "relu then BatchNorm where hidden layer 1 has BatchNorm then "
                "relu");
  ExpectInvalid({Product(3, 2, false, "p0"), BatchNorm(3, "bn"),
                 Product(3, 3, false, "p1"), BatchNorm(3, "bn2", 1e-3f),
                 Product(2, 3, true, "p2")},
                "bn2: epsilon 0.001 and momentum 0.9 differ");
}

TEST(AssembleModelTest, ConfigErrorsNameTheFileAndLimitsAreResourceExhausted) {
  const absl::StatusOr<Model<float>> one_class =
      AssembleModel({Product(1, 2, true, "p0"), Softmax("sm")}, kMax);
  EXPECT_EQ(one_class.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(one_class.status().message(), HasSubstr("the model in the file"));
  const absl::StatusOr<Model<float>> too_big =
      AssembleModel({Product(4, 3, true, "p0")}, /*max_parameters=*/10);
  EXPECT_EQ(too_big.status().code(), absl::StatusCode::kResourceExhausted);
}

TEST(ShortestDecimalTest, FindsTheShortestDecimalOfAFloat) {
  EXPECT_EQ(ShortestDecimal(1e-5f), 1e-5);
  EXPECT_EQ(ShortestDecimal(0.9f), 0.9);
  EXPECT_EQ(ShortestDecimal(0.1f), 0.1);
  EXPECT_EQ(ShortestDecimal(0.0f), 0.0);
  const float odd = 0.123456789f;
  EXPECT_EQ(static_cast<float>(ShortestDecimal(odd)), odd);
}

}  // namespace
}  // namespace bnmlp
