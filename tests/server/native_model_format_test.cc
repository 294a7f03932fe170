#include "server/native_model_format.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bnmlp {
namespace {

using ::testing::HasSubstr;

TEST(UnimplementedNativeModelFormatTest, EveryCallSaysWhatToUseInstead) {
  std::shared_ptr<NativeModelFormat> format = UnimplementedNativeModelFormat();
  for (const absl::Status& status :
       {format->Available(), format->Export("m", 0).status(),
        format->Import("m", "bytes").status()}) {
    EXPECT_EQ(status.code(), absl::StatusCode::kUnimplemented);
    EXPECT_THAT(status.message(), HasSubstr("FORMAT_BNMLP"));
    EXPECT_THAT(status.message(), HasSubstr("Use format FORMAT_ONNX"));
  }
}

}  // namespace
}  // namespace bnmlp
