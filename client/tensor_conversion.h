// Conversions between bnmlp.v1 protobuf tensors and plain vectors + shapes.
#ifndef BNMLP_CLIENT_TENSOR_CONVERSION_H_
#define BNMLP_CLIENT_TENSOR_CONVERSION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "bnmlp/v1/bnmlp.pb.h"

namespace bnmlp::client {

// A dense row-major float tensor. An empty shape and no values is the
// "absent" tensor (e.g. the bias of a pre-activation layer).
struct TensorData {
  std::vector<int64_t> shape;
  std::vector<float> values;

  bool empty() const { return shape.empty() && values.empty(); }
};

// Copies `values` into a Tensor of the given shape. The caller guarantees
// that the product of `shape` equals values.size().
v1::Tensor ToTensorProto(absl::Span<const float> values,
                         absl::Span<const int64_t> shape);

// Copies a Tensor out of a response. An error (INTERNAL, naming `field`) if
// the shape has a negative dimension or its product differs from the number
// of values: the server sent something malformed.
absl::StatusOr<TensorData> FromTensorProto(const v1::Tensor& tensor,
                                           absl::string_view field);

// Every parameter and running statistic of one Linear(+BatchNorm) layer.
struct LayerParameterData {
  TensorData weight;  // [out, in]
  TensorData bias;    // [out] or absent
  TensorData gamma;   // [out] or absent (output layer, normalization NONE)
  TensorData beta;
  TensorData running_mean;
  TensorData running_var;
};

struct ModelParameters {
  std::string name;
  int64_t version = 0;
  std::vector<int64_t> layer_sizes;
  std::vector<LayerParameterData> layers;
};

absl::StatusOr<ModelParameters> FromParametersProto(
    const v1::GetParametersResponse& response);
v1::GetParametersResponse ToParametersProto(const ModelParameters& parameters);

}  // namespace bnmlp::client

#endif  // BNMLP_CLIENT_TENSOR_CONVERSION_H_
