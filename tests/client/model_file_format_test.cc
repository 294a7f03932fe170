#include "client/cli/model_file_format.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bnmlp::cli {
namespace {

using ::testing::HasSubstr;

TEST(ModelFileFormatTest, TheFlagWinsOverTheExtension) {
  EXPECT_EQ(*ModelFileFormat("onnx", "m.bnmlp"), v1::FORMAT_ONNX);
  EXPECT_EQ(*ModelFileFormat("BNMLP", "m.onnx"), v1::FORMAT_BNMLP);
  EXPECT_EQ(*ModelFileFormat("", "dir/M.ONNX"), v1::FORMAT_ONNX);
  EXPECT_EQ(*ModelFileFormat("", "m.bnmlp"), v1::FORMAT_BNMLP);
}

TEST(ModelFileFormatTest, UnknownFormatsNameTheFileOrTheFlag) {
  absl::StatusOr<v1::Format> format = ModelFileFormat("", "model.bin");
  EXPECT_EQ(format.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(format.status().message(), HasSubstr("model.bin"));
  EXPECT_THAT(format.status().message(), HasSubstr("--format"));
  EXPECT_THAT(ModelFileFormat("tflite", "m.onnx").status().message(),
              HasSubstr("--format='tflite': expected one of bnmlp, onnx"));
}

}  // namespace
}  // namespace bnmlp::cli
