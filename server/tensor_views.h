// Views of bnmlp.v1 Tensors as the engine's matrices, both ways, without
// copies: a [N, F] row-major Tensor is exactly the engine's column-major
// (F x N) matrix, so a view points into the proto's own float buffer.
// Views are valid while the proto lives and is not modified.
#ifndef BNMLP_SERVER_TENSOR_VIEWS_H_
#define BNMLP_SERVER_TENSOR_VIEWS_H_

#include <cstdint>
#include <initializer_list>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "bnmlp/v1/bnmlp.pb.h"
#include "core/matrix.h"

namespace bnmlp {

// True for a Tensor with neither shape nor values (an unset field).
bool IsEmptyTensor(const v1::Tensor& tensor);

// The samples of a [N, F] tensor as an (F x N) view; an empty tensor gives a
// (0 x 0) view. INVALID_ARGUMENT naming `field` unless the tensor has rank
// 2, non-negative dimensions and exactly N * F values (no overflow for huge
// dimensions). Checks structure only, not the values.
absl::StatusOr<ConstMatrixMap<float>> SampleMatrixFromTensor(
    const v1::Tensor& tensor, absl::string_view field);

// Shapes `tensor` as [samples, features] and returns the (features x
// samples) view of its values for the engine to fill. The values are NOT
// initialized (the engine overwrites every one), so this costs one
// allocation and no pass over memory. Requires samples * features to fit
// a protobuf repeated field (< 2^31).
MatrixMap<float> ShapeOutputTensor(int64_t samples, int64_t features,
                                   v1::Tensor* tensor);

// Copies `data` (row-major, `shape`'s product values) into `tensor`.
void CopyToTensor(const float* data, std::initializer_list<int64_t> shape,
                  v1::Tensor* tensor);

}  // namespace bnmlp

#endif  // BNMLP_SERVER_TENSOR_VIEWS_H_
