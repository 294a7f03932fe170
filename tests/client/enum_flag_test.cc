#include "client/cli/enum_flag.h"

#include "bnmlp/v1/bnmlp.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bnmlp::cli {
namespace {

TEST(EnumFlagTest, ParsesNamesWithoutTheEnumsPrefixInAnyCase) {
  EXPECT_EQ(
      *ParseEnumFlag<v1::Normalization>("normalization", "post_activation"),
      v1::NORMALIZATION_POST_ACTIVATION);
  EXPECT_EQ(*ParseEnumFlag<v1::Optimizer>("optimizer", "Adam"),
            v1::OPTIMIZER_ADAM);
  EXPECT_EQ(*ParseEnumFlag<v1::Task>("task", "REGRESSION"),
            v1::TASK_REGRESSION);
  // A multi-word enum name becomes a multi-word prefix.
  EXPECT_EQ(*ParseEnumFlag<v1::LearningRateSchedule>("lr_schedule", "cosine"),
            v1::LEARNING_RATE_SCHEDULE_COSINE);
}

TEST(EnumFlagTest, AcceptsTheFullValueNameToo) {
  EXPECT_EQ(*ParseEnumFlag<v1::Activation>("activation", "ACTIVATION_TANH"),
            v1::ACTIVATION_TANH);
}

TEST(EnumFlagTest, UnknownNameListsTheAcceptedOnesWithoutUnspecified) {
  absl::StatusOr<v1::Activation> activation =
      ParseEnumFlag<v1::Activation>("activation", "gelu");
  EXPECT_EQ(activation.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      activation.status().message(),
      "--activation='gelu': expected one of relu, tanh, sigmoid, identity");
  // Leaving the flag out is how to ask for the default.
  EXPECT_FALSE(ParseEnumFlag<v1::Activation>("activation", "unspecified").ok());
}

TEST(EnumFlagTest, AnEmptyOptionalFlagIsUnspecified) {
  EXPECT_EQ(*ParseOptionalEnumFlag<v1::Optimizer>("optimizer", ""),
            v1::OPTIMIZER_UNSPECIFIED);
  EXPECT_EQ(*ParseOptionalEnumFlag<v1::Optimizer>("optimizer", "sgd"),
            v1::OPTIMIZER_SGD);
  EXPECT_FALSE(
      ParseOptionalEnumFlag<v1::Optimizer>("optimizer", "rmsprop").ok());
}

TEST(EnumFlagTest, NamesAreLowerCaseWithoutThePrefix) {
  EXPECT_EQ(EnumFlagName(v1::TRAINING_STATE_CANCELLED), "cancelled");
  EXPECT_EQ(EnumFlagName(v1::NORMALIZATION_PRE_ACTIVATION), "pre_activation");
  EXPECT_EQ(EnumFlagName(v1::LEARNING_RATE_SCHEDULE_CONSTANT), "constant");
  EXPECT_EQ(EnumFlagName(static_cast<v1::Task>(42)), "42");
}

}  // namespace
}  // namespace bnmlp::cli
