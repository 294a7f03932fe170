#include "interchange/onnx_metadata.h"

#include "common/build_info.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bnmlp {
namespace {

using ::testing::HasSubstr;
using ::testing::Pair;

ModelConfig Config() {
  ModelConfig config;
  config.layer_sizes = {784, 128, 10};
  config.batch_norm_momentum = 0.1;
  config.batch_norm_epsilon = 1e-5;
  return config;
}

TEST(ExportMetadataTest, ListsTheModelInAFixedOrder) {
  const auto metadata = ExportMetadata(Config(), {false, "fashion", 7});
  ASSERT_EQ(metadata.size(), 11u);
  EXPECT_THAT(metadata[0], Pair("bnmlp.model_name", "fashion"));
  EXPECT_THAT(metadata[1], Pair("bnmlp.model_version", "7"));
  EXPECT_THAT(metadata[2], Pair("bnmlp.layer_sizes", "784,128,10"));
  EXPECT_THAT(metadata[3], Pair("bnmlp.task", "classification"));
  EXPECT_THAT(metadata[4], Pair("bnmlp.normalization", "pre_activation"));
  EXPECT_THAT(metadata[5], Pair("bnmlp.activation", "relu"));
  EXPECT_THAT(metadata[6], Pair("bnmlp.batch_norm_momentum", "0.1"));
  EXPECT_THAT(metadata[7], Pair("bnmlp.batch_norm_epsilon", "1e-05"));
  EXPECT_THAT(metadata[8], Pair("bnmlp.batch_norm_folded", "false"));
  EXPECT_THAT(metadata[9], Pair("bnmlp.version", ProjectVersion()));
  EXPECT_THAT(metadata[10], Pair("bnmlp.git_commit", GitCommit()));
}

TEST(ExportDocStringTest, DescribesModelInputAndOutput) {
  const std::string doc = ExportDocString(Config(), {true, "fashion", 7});
  EXPECT_THAT(doc, HasSubstr("bnmlp model 'fashion' version 7"));
  EXPECT_THAT(doc, HasSubstr("layers 784-128-10, classification"));
  EXPECT_THAT(doc, HasSubstr("pre_activation BatchNorm (momentum 0.1, "
                             "epsilon 1e-05, folded into the products)"));
  EXPECT_THAT(doc, HasSubstr("Input x: float32 [N, 784]"));
  EXPECT_THAT(doc, HasSubstr("[N, 10], class probabilities"));
  ModelConfig plain = Config();
  plain.normalization = Normalization::kNone;
  plain.task = Task::kRegression;
  EXPECT_THAT(ExportDocString(plain, {}), HasSubstr("no BatchNorm"));
  EXPECT_THAT(ExportDocString(plain, {}), HasSubstr("values"));
}

}  // namespace
}  // namespace bnmlp
