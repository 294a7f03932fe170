#include "server/tensor_views.h"

#include <limits>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace bnmlp {
namespace {

// Shapes are echoed in messages; a hostile rank must not make them huge.
std::string ShapeString(const v1::Tensor& tensor) {
  constexpr int kShown = 8;
  const auto& shape = tensor.shape();
  if (shape.size() <= kShown) {
    return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
  }
  return absl::StrCat(
      "[", absl::StrJoin(shape.begin(), shape.begin() + kShown, ", "),
      ", ... (", shape.size(), " dimensions)]");
}

}  // namespace

bool IsEmptyTensor(const v1::Tensor& tensor) {
  return tensor.shape_size() == 0 && tensor.values_size() == 0;
}

absl::StatusOr<ConstMatrixMap<float>> SampleMatrixFromTensor(
    const v1::Tensor& tensor, absl::string_view field) {
  if (IsEmptyTensor(tensor)) return ConstMatrixMap<float>(nullptr, 0, 0);
  if (tensor.shape_size() != 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": expected shape [N, features] (rank 2), got rank ",
        tensor.shape_size(), " shape ", ShapeString(tensor)));
  }
  const int64_t samples = tensor.shape(0);
  const int64_t features = tensor.shape(1);
  if (samples < 0 || features < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": shape ", ShapeString(tensor), " has a negative dimension"));
  }
  // Divide instead of multiplying: huge dimensions must not overflow.
  const bool count_matches =
      features == 0
          ? tensor.values_size() == 0
          : samples <= std::numeric_limits<int64_t>::max() / features &&
                samples * features == tensor.values_size();
  if (!count_matches) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": shape ", ShapeString(tensor),
                     " needs shape[0] * shape[1] values (row-major), got ",
                     tensor.values_size()));
  }
  return ConstMatrixMap<float>(tensor.values().data(), features, samples);
}

MatrixMap<float> ShapeOutputTensor(int64_t samples, int64_t features,
                                   v1::Tensor* tensor) {
  tensor->clear_shape();
  tensor->add_shape(samples);
  tensor->add_shape(features);
  google::protobuf::RepeatedField<float>* values = tensor->mutable_values();
  const int count = static_cast<int>(samples * features);
  values->Clear();
  values->Reserve(count);
  float* data = values->AddNAlreadyReserved(count);
  return MatrixMap<float>(data, features, samples);
}

void CopyToTensor(const float* data, std::initializer_list<int64_t> shape,
                  v1::Tensor* tensor) {
  int64_t count = 1;
  for (int64_t dimension : shape) {
    tensor->add_shape(dimension);
    count *= dimension;
  }
  tensor->mutable_values()->Reserve(static_cast<int>(count));
  tensor->mutable_values()->Add(data, data + count);
}

}  // namespace bnmlp
