#include "client/tensor_conversion.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"

namespace bnmlp::client {

v1::Tensor ToTensorProto(absl::Span<const float> values,
                         absl::Span<const int64_t> shape) {
  v1::Tensor tensor;
  tensor.mutable_shape()->Add(shape.begin(), shape.end());
  tensor.mutable_values()->Add(values.begin(), values.end());
  return tensor;
}

absl::StatusOr<TensorData> FromTensorProto(const v1::Tensor& tensor,
                                           absl::string_view field) {
  int64_t expected_values = tensor.shape().empty() ? 0 : 1;
  for (const int64_t dim : tensor.shape()) {
    if (dim < 0) {
      return absl::InternalError(absl::StrCat(
          "the server sent a malformed tensor: ", field, ".shape [",
          absl::StrJoin(tensor.shape(), ", "), "] has a negative dimension"));
    }
    expected_values *= dim;
  }
  if (expected_values != tensor.values_size()) {
    return absl::InternalError(
        absl::StrCat("the server sent a malformed tensor: ", field, ".shape [",
                     absl::StrJoin(tensor.shape(), ", "), "] needs ",
                     expected_values, " values, got ", tensor.values_size()));
  }
  TensorData data;
  data.shape.assign(tensor.shape().begin(), tensor.shape().end());
  data.values.assign(tensor.values().begin(), tensor.values().end());
  return data;
}

namespace {

absl::StatusOr<LayerParameterData> FromLayerProto(
    const v1::LayerParameters& layer, int index) {
  const std::string prefix = absl::StrCat("layers[", index, "].");
  LayerParameterData data;
  struct Field {
    const char* name;
    const v1::Tensor* proto;
    TensorData* out;
  };
  const Field fields[] = {
      {"weight", &layer.weight(), &data.weight},
      {"bias", &layer.bias(), &data.bias},
      {"gamma", &layer.gamma(), &data.gamma},
      {"beta", &layer.beta(), &data.beta},
      {"running_mean", &layer.running_mean(), &data.running_mean},
      {"running_var", &layer.running_var(), &data.running_var},
  };
  for (const Field& field : fields) {
    BNMLP_ASSIGN_OR_RETURN(
        *field.out,
        FromTensorProto(*field.proto, absl::StrCat(prefix, field.name)));
  }
  return data;
}

// Sets layer's field only for present tensors: calling mutable_x() alone
// would already make an absent tensor present (and empty).
void SetIfPresent(const TensorData& data,
                  v1::Tensor* (v1::LayerParameters::*mutable_field)(),
                  v1::LayerParameters* layer) {
  if (!data.empty()) {
    *(layer->*mutable_field)() = ToTensorProto(data.values, data.shape);
  }
}

}  // namespace

absl::StatusOr<ModelParameters> FromParametersProto(
    const v1::GetParametersResponse& response) {
  ModelParameters parameters;
  parameters.name = response.name();
  parameters.version = response.version();
  parameters.layer_sizes.assign(response.layer_sizes().begin(),
                                response.layer_sizes().end());
  for (int i = 0; i < response.layers_size(); ++i) {
    BNMLP_ASSIGN_OR_RETURN(LayerParameterData layer,
                           FromLayerProto(response.layers(i), i));
    parameters.layers.push_back(std::move(layer));
  }
  return parameters;
}

v1::GetParametersResponse ToParametersProto(const ModelParameters& parameters) {
  v1::GetParametersResponse response;
  response.set_name(parameters.name);
  response.set_version(parameters.version);
  response.mutable_layer_sizes()->Add(parameters.layer_sizes.begin(),
                                      parameters.layer_sizes.end());
  for (const LayerParameterData& data : parameters.layers) {
    v1::LayerParameters* layer = response.add_layers();
    SetIfPresent(data.weight, &v1::LayerParameters::mutable_weight, layer);
    SetIfPresent(data.bias, &v1::LayerParameters::mutable_bias, layer);
    SetIfPresent(data.gamma, &v1::LayerParameters::mutable_gamma, layer);
    SetIfPresent(data.beta, &v1::LayerParameters::mutable_beta, layer);
    SetIfPresent(data.running_mean, &v1::LayerParameters::mutable_running_mean,
                 layer);
    SetIfPresent(data.running_var, &v1::LayerParameters::mutable_running_var,
                 layer);
  }
  return response;
}

}  // namespace bnmlp::client
