#include "core/model_config.h"

#include <cstdint>
#include <limits>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bnmlp {
namespace {

using ::testing::HasSubstr;

ModelConfig Config(std::vector<int64_t> sizes) {
  ModelConfig c;
  c.layer_sizes = std::move(sizes);
  return c;
}

TEST(CountParametersTest, CountsWeightsBiasesAndBatchNormPerPosition) {
  // 784-256-128-10: weights 784*256 + 256*128 + 128*10 = 234752.
  const std::vector<int64_t> sizes = {784, 256, 128, 10};
  // Pre-activation: gamma + beta per hidden unit, bias on the output only.
  EXPECT_EQ(CountParameters(sizes, Normalization::kPreActivation),
            234752 + 2 * (256 + 128) + 10);
  // Post-activation keeps hidden biases too.
  EXPECT_EQ(CountParameters(sizes, Normalization::kPostActivation),
            234752 + 3 * (256 + 128) + 10);
  EXPECT_EQ(CountParameters(sizes, Normalization::kNone),
            234752 + (256 + 128) + 10);
}

TEST(CountParametersTest, SaturatesInsteadOfOverflowing) {
  const int64_t huge = int64_t{1} << 62;
  EXPECT_EQ(CountParameters({huge, huge, 10}, Normalization::kNone),
            std::numeric_limits<int64_t>::max());
  EXPECT_EQ(CountParameters({std::numeric_limits<int64_t>::max(), 2},
                            Normalization::kNone),
            std::numeric_limits<int64_t>::max());
}

TEST(ValidateModelConfigTest, AcceptsTheDefaultArchitecture) {
  EXPECT_TRUE(ValidateModelConfig(Config({784, 256, 128, 10})).ok());
  EXPECT_TRUE(ValidateModelConfig(Config({3, 2})).ok());  // no hidden layer
}

TEST(ValidateModelConfigTest, NamesTheFieldAndWhatWasExpected) {
  struct Case {
    ModelConfig config;
    const char* message;
  };
  ModelConfig momentum = Config({4, 3});
  momentum.batch_norm_momentum = 1.5;
  ModelConfig nan_momentum = Config({4, 3});
  nan_momentum.batch_norm_momentum = std::nan("");
  ModelConfig eps = Config({4, 3});
  eps.batch_norm_epsilon = 0;
  ModelConfig one_class = Config({4, 1});
  const Case cases[] = {
      {Config({}), "layer_sizes must list at least 2 sizes"},
      {Config({5}), "layer_sizes must list at least 2 sizes"},
      {Config(std::vector<int64_t>(1002, 1)),
       "layer_sizes may list at most 1001 sizes (1000 layers), got 1002"},
      {Config({5, 0, 3}), "layer_sizes[1] must be at least 1, got 0"},
      {Config({5, 4, -3}), "layer_sizes[2] must be at least 1, got -3"},
      {one_class, "at least 2 for classification"},
      {momentum, "batch_norm_momentum must be in [0, 1], got 1.5"},
      {nan_momentum, "batch_norm_momentum must be in [0, 1]"},
      {eps, "batch_norm_epsilon must be finite and > 0"},
  };
  for (const Case& c : cases) {
    const absl::Status s = ValidateModelConfig(c.config);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.message;
    EXPECT_THAT(s.message(), HasSubstr(c.message));
  }
}

TEST(ValidateModelConfigTest, OneOutputIsFineForRegression) {
  ModelConfig c = Config({4, 1});
  c.task = Task::kRegression;
  EXPECT_TRUE(ValidateModelConfig(c).ok());
}

TEST(ValidateModelConfigTest, TooManyParametersIsResourceExhausted) {
  const absl::Status s = ValidateModelConfig(Config({784, 256, 10}), 1000);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(s.message(), HasSubstr("the limit is 1000"));

  const int64_t huge = int64_t{1} << 62;
  const absl::Status overflow = ValidateModelConfig(Config({huge, huge, 2}));
  EXPECT_EQ(overflow.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(overflow.message(), HasSubstr("more than 9.2e18"));
}

TEST(ModelConfigTest, DefaultsAreTheApis) {
  const ModelConfig c;
  EXPECT_EQ(c.task, Task::kClassification);
  EXPECT_EQ(c.normalization, Normalization::kPreActivation);
  EXPECT_EQ(c.activation, Activation::kRelu);
  EXPECT_EQ(c.batch_norm_momentum, api_defaults::kBatchNormMomentum);
  EXPECT_EQ(c.batch_norm_epsilon, api_defaults::kBatchNormEpsilon);
  EXPECT_EQ(c.seed, api_defaults::kSeed);
}

TEST(ModelConfigNamesTest, MatchTheApiSpelling) {
  EXPECT_EQ(NormalizationName(Normalization::kPostActivation),
            "post_activation");
  EXPECT_EQ(ActivationName(Activation::kSigmoid), "sigmoid");
  EXPECT_EQ(TaskName(Task::kRegression), "regression");
}

}  // namespace
}  // namespace bnmlp
