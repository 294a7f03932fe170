// Float tensors in and out of onnx.TensorProto. Reading checks every size
// against the bytes the file really holds before anything is allocated, so a
// hostile file cannot make it allocate more than it sent.
#ifndef BNMLP_INTERCHANGE_ONNX_TENSOR_H_
#define BNMLP_INTERCHANGE_ONNX_TENSOR_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "onnx/onnx_pb.h"

namespace bnmlp {

// A dense float tensor, row-major.
struct FloatTensor {
  std::vector<int64_t> dims;
  std::vector<float> values;

  int rank() const { return static_cast<int>(dims.size()); }
};

// The most dimensions a tensor of a BN-MLP may have (weights have 2).
inline constexpr int kMaxTensorRank = 4;

// The values of `tensor`, named `what` in errors (e.g. "initializer 'w'").
// INVALID_ARGUMENT unless it is a FLOAT tensor stored in the file (not
// external data, not a segment) with at most kMaxTensorRank non-negative
// dims and exactly their product of values, in raw_data (little-endian, the
// exact byte length) or float_data, never both, and every value finite.
// RESOURCE_EXHAUSTED if it claims more than `max_elements` values.
absl::StatusOr<FloatTensor> ReadFloatTensor(const onnx::TensorProto& tensor,
                                            absl::string_view what,
                                            int64_t max_elements);

// `out` becomes a FLOAT tensor `name` of shape `dims` holding `values`
// (row-major, the product of dims of them) in raw_data.
void WriteFloatTensor(absl::string_view name, const std::vector<int64_t>& dims,
                      const float* values, onnx::TensorProto* out);

// "FLOAT", "DOUBLE", ... for a TensorProto.DataType number; "data type N"
// for a number ONNX does not define.
std::string DataTypeName(int data_type);

}  // namespace bnmlp

#endif  // BNMLP_INTERCHANGE_ONNX_TENSOR_H_
