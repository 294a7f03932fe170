#include "client/tensor_conversion.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bnmlp::client {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(TensorConversionTest, RoundTripsValuesAndShape) {
  const float values[] = {1, 2, 3, 4, 5, 6};
  const int64_t shape[] = {2, 3};
  const v1::Tensor tensor = ToTensorProto(values, shape);
  EXPECT_THAT(tensor.shape(), ElementsAre(2, 3));
  absl::StatusOr<TensorData> data = FromTensorProto(tensor, "x");
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_THAT(data->shape, ElementsAre(2, 3));
  EXPECT_THAT(data->values, ElementsAre(1, 2, 3, 4, 5, 6));
}

TEST(TensorConversionTest, EmptyTensorIsAbsent) {
  absl::StatusOr<TensorData> data = FromTensorProto(v1::Tensor(), "bias");
  ASSERT_TRUE(data.ok());
  EXPECT_TRUE(data->empty());
}

TEST(TensorConversionTest, RejectsMalformedTensorsNamingTheField) {
  v1::Tensor tensor;
  tensor.add_shape(2);
  tensor.add_shape(2);
  tensor.add_values(1);
  EXPECT_THAT(FromTensorProto(tensor, "layers[1].gamma").status().message(),
              HasSubstr("layers[1].gamma.shape [2, 2] needs 4 values, got 1"));
  tensor.set_shape(0, -1);
  EXPECT_THAT(FromTensorProto(tensor, "outputs").status().message(),
              HasSubstr("negative dimension"));
  v1::Tensor values_without_shape;
  values_without_shape.add_values(1);
  EXPECT_FALSE(FromTensorProto(values_without_shape, "x").ok());
}

TEST(TensorConversionTest, ParametersRoundTripKeepingAbsentTensorsAbsent) {
  v1::GetParametersResponse response;
  response.set_name("m");
  response.set_version(4);
  response.add_layer_sizes(2);
  response.add_layer_sizes(1);
  v1::LayerParameters* layer = response.add_layers();
  layer->mutable_weight()->add_shape(1);
  layer->mutable_weight()->add_shape(2);
  layer->mutable_weight()->add_values(0.5f);
  layer->mutable_weight()->add_values(-0.5f);
  layer->mutable_bias()->add_shape(1);
  layer->mutable_bias()->add_values(0.25f);

  absl::StatusOr<ModelParameters> parameters = FromParametersProto(response);
  ASSERT_TRUE(parameters.ok()) << parameters.status();
  EXPECT_EQ(parameters->name, "m");
  EXPECT_EQ(parameters->version, 4);
  ASSERT_EQ(parameters->layers.size(), 1u);
  EXPECT_THAT(parameters->layers[0].bias.values, ElementsAre(0.25f));
  EXPECT_TRUE(parameters->layers[0].running_var.empty());

  const v1::GetParametersResponse back = ToParametersProto(*parameters);
  EXPECT_EQ(back.SerializeAsString(), response.SerializeAsString());
}

}  // namespace
}  // namespace bnmlp::client
