#include "client/cli/enum_flag.h"

#include "bnmlp/v1/bnmlp.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bnmlp::cli {
namespace {

TEST(EnumFlagTest, ParsesNamesInAnyCase) {
  EXPECT_EQ(
      *ParseEnumFlag<v1::Normalization>("normalization", "post_activation"),
      v1::POST_ACTIVATION);
  EXPECT_EQ(*ParseEnumFlag<v1::Optimizer>("optimizer", "Adam"), v1::ADAM);
  EXPECT_EQ(*ParseEnumFlag<v1::Task>("task", "REGRESSION"), v1::REGRESSION);
}

TEST(EnumFlagTest, UnknownNameListsTheAcceptedOnes) {
  absl::StatusOr<v1::Activation> activation =
      ParseEnumFlag<v1::Activation>("activation", "gelu");
  EXPECT_EQ(activation.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      activation.status().message(),
      "--activation='gelu': expected one of relu, tanh, sigmoid, identity");
}

TEST(EnumFlagTest, NamesAreLowerCase) {
  EXPECT_EQ(EnumFlagName(v1::TRAINING_CANCELLED), "training_cancelled");
  EXPECT_EQ(EnumFlagName(v1::PRE_ACTIVATION), "pre_activation");
}

}  // namespace
}  // namespace bnmlp::cli
