#include "interchange/onnx_tensor.h"

#include <cmath>
#include <limits>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bnmlp {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int64_t kMax = int64_t{1} << 31;

onnx::TensorProto FloatTensorProto(std::vector<int64_t> dims,
                                   std::vector<float> values) {
  onnx::TensorProto t;
  WriteFloatTensor("t", dims, values.data(), &t);
  return t;
}

absl::Status ReadStatus(const onnx::TensorProto& t) {
  return ReadFloatTensor(t, "initializer 't'", kMax).status();
}

TEST(OnnxTensorTest, RoundTripsRawData) {
  const onnx::TensorProto t = FloatTensorProto({2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_EQ(t.data_type(), onnx::TensorProto::FLOAT);
  EXPECT_EQ(t.raw_data().size(), 24u);
  absl::StatusOr<FloatTensor> read = ReadFloatTensor(t, "t", kMax);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_THAT(read->dims, ElementsAre(2, 3));
  EXPECT_THAT(read->values, ElementsAre(1, 2, 3, 4, 5, 6));
}

TEST(OnnxTensorTest, ReadsFloatData) {
  onnx::TensorProto t;
  t.set_data_type(onnx::TensorProto::FLOAT);
  t.add_dims(2);
  t.add_float_data(0.5f);
  t.add_float_data(-1.5f);
  absl::StatusOr<FloatTensor> read = ReadFloatTensor(t, "t", kMax);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_THAT(read->values, ElementsAre(0.5f, -1.5f));
}

TEST(OnnxTensorTest, AHugeShapeClaimIsRefusedBeforeAllocating) {
  onnx::TensorProto t = FloatTensorProto({2}, {1, 2});
  t.clear_dims();
  t.add_dims(int64_t{1} << 20);
  t.add_dims(int64_t{1} << 20);  // 2^40 values claimed, 8 bytes sent
  const absl::Status status = ReadStatus(t);
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(status.message(), HasSubstr("initializer 't'"));
  // Dimensions whose product overflows int64 are caught the same way.
  t.clear_dims();
  for (int i = 0; i < 4; ++i) t.add_dims(std::numeric_limits<int64_t>::max());
  EXPECT_EQ(ReadStatus(t).code(), absl::StatusCode::kResourceExhausted);
}

TEST(OnnxTensorTest, RefusesMalformedTensors) {
  struct Case {
    const char* what;
    onnx::TensorProto tensor;
    const char* message;
  };
  std::vector<Case> cases;
  {
    onnx::TensorProto t = FloatTensorProto({2}, {1, 2});
    t.set_dims(0, -2);
    cases.push_back({"negative dim", t, "must be >= 0"});
  }
  {
    onnx::TensorProto t = FloatTensorProto({2}, {1, 2});
    t.set_dims(0, 3);
    cases.push_back({"raw_data too short", t, "needs 12 bytes of raw_data"});
  }
  {
    onnx::TensorProto t = FloatTensorProto({2}, {1, 2});
    t.add_float_data(1);
    cases.push_back({"both encodings", t, "both raw_data and float_data"});
  }
  {
    onnx::TensorProto t = FloatTensorProto({2}, {1, 2});
    t.set_data_type(onnx::TensorProto::DOUBLE);
    cases.push_back({"double", t, "got DOUBLE"});
  }
  {
    onnx::TensorProto t = FloatTensorProto({2}, {1, 2});
    t.set_data_type(12345);
    cases.push_back({"unknown type", t, "data type 12345"});
  }
  {
    onnx::TensorProto t = FloatTensorProto({2}, {1, 2});
    t.set_data_location(onnx::TensorProto::EXTERNAL);
    cases.push_back({"external", t, "external data"});
  }
  {
    onnx::TensorProto t = FloatTensorProto({2}, {1, std::nanf("")});
    cases.push_back({"nan", t, "finite"});
  }
  {
    onnx::TensorProto t = FloatTensorProto({1, 1, 1, 1, 1}, {1});
    cases.push_back({"rank 5", t, "at most 4 dimensions"});
  }
  {
    onnx::TensorProto t;
    t.set_data_type(onnx::TensorProto::FLOAT);
    t.add_dims(3);
    cases.push_back({"no data", t, "no raw_data nor float_data"});
  }
  for (const Case& c : cases) {
    const absl::Status status = ReadStatus(c.tensor);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.what;
    EXPECT_THAT(status.message(), HasSubstr(c.message)) << c.what;
    EXPECT_THAT(status.message(), HasSubstr("initializer 't'")) << c.what;
  }
}

TEST(OnnxTensorTest, AnEmptyTensorIsValid) {
  absl::StatusOr<FloatTensor> read =
      ReadFloatTensor(FloatTensorProto({0, 3}, {}), "t", kMax);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_TRUE(read->values.empty());
}

TEST(OnnxTensorTest, NamesDataTypes) {
  EXPECT_EQ(DataTypeName(onnx::TensorProto::FLOAT), "FLOAT");
  EXPECT_EQ(DataTypeName(onnx::TensorProto::INT64), "INT64");
  EXPECT_EQ(DataTypeName(-1), "data type -1");
}

}  // namespace
}  // namespace bnmlp
