#include "interchange/onnx_tensor.h"

#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"

namespace bnmlp {
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "ONNX raw_data is little-endian; this code copies it as is");

std::string DimsText(const onnx::TensorProto& tensor) {
  constexpr int kShown = 8;
  std::vector<int64_t> shown(
      tensor.dims().begin(),
      tensor.dims().begin() + std::min(tensor.dims_size(), kShown));
  return absl::StrCat("[", absl::StrJoin(shown, ", "),
                      tensor.dims_size() > kShown ? ", ...]" : "]");
}

// The product of the dims, checked to be non-negative and at most
// `max_elements` (so it cannot overflow).
absl::StatusOr<int64_t> ElementCount(const onnx::TensorProto& tensor,
                                     absl::string_view what,
                                     int64_t max_elements) {
  if (tensor.dims_size() > kMaxTensorRank) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": expected at most ", kMaxTensorRank,
                     " dimensions, got ", tensor.dims_size()));
  }
  int64_t count = 1;
  for (int64_t dim : tensor.dims()) {
    if (dim < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, ": dimensions must be >= 0, got shape ", DimsText(tensor)));
    }
    if (dim != 0 && count > max_elements / dim) {
      return absl::ResourceExhaustedError(absl::StrCat(
          what, ": shape ", DimsText(tensor), " holds more than ", max_elements,
          " values, the most a model on this server may have"));
    }
    count *= dim;
  }
  return count;
}

absl::Status CheckFinite(const std::vector<float>& values,
                         absl::string_view what) {
  for (size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, ": expected finite values, got ", values[i], " at index ", i));
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string DataTypeName(int data_type) {
  if (onnx::TensorProto_DataType_IsValid(data_type)) {
    return onnx::TensorProto_DataType_Name(
        static_cast<onnx::TensorProto_DataType>(data_type));
  }
  return absl::StrCat("data type ", data_type);
}

absl::StatusOr<FloatTensor> ReadFloatTensor(const onnx::TensorProto& tensor,
                                            absl::string_view what,
                                            int64_t max_elements) {
  if (tensor.data_location() == onnx::TensorProto::EXTERNAL ||
      tensor.external_data_size() > 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        what,
        ": its data is stored outside the file (external data); bnmlp "
        "imports self-contained files"));
  }
  if (tensor.has_segment()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": segmented tensors are not supported"));
  }
  if (tensor.data_type() != onnx::TensorProto::FLOAT) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": expected data type FLOAT (float32), got ",
                     DataTypeName(tensor.data_type()),
                     "; export a float32 model (model.float() in PyTorch)"));
  }
  BNMLP_ASSIGN_OR_RETURN(const int64_t count,
                         ElementCount(tensor, what, max_elements));
  const bool has_raw = !tensor.raw_data().empty();
  const bool has_typed = tensor.float_data_size() > 0;
  if (has_raw && has_typed) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": holds both raw_data and float_data; expected one"));
  }
  FloatTensor out;
  out.dims.assign(tensor.dims().begin(), tensor.dims().end());
  if (has_raw) {
    const uint64_t expected = static_cast<uint64_t>(count) * sizeof(float);
    if (tensor.raw_data().size() != expected) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": shape ", DimsText(tensor), " needs ", expected,
                       " bytes of raw_data (", count, " float32 values), got ",
                       tensor.raw_data().size()));
    }
    out.values.resize(static_cast<size_t>(count));
    if (count > 0) {
      std::memcpy(out.values.data(), tensor.raw_data().data(), expected);
    }
  } else {
    if (tensor.float_data_size() != count) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, ": shape ", DimsText(tensor), " needs ", count, " values, got ",
          tensor.float_data_size(),
          has_typed ? " in float_data" : " (no raw_data nor float_data)"));
    }
    out.values.assign(tensor.float_data().begin(), tensor.float_data().end());
  }
  BNMLP_RETURN_IF_ERROR(CheckFinite(out.values, what));
  return out;
}

void WriteFloatTensor(absl::string_view name, const std::vector<int64_t>& dims,
                      const float* values, onnx::TensorProto* out) {
  out->set_name(std::string(name));
  out->set_data_type(onnx::TensorProto::FLOAT);
  int64_t count = 1;
  for (int64_t dim : dims) {
    out->add_dims(dim);
    count *= dim;
  }
  out->set_raw_data(values, static_cast<size_t>(count) * sizeof(float));
}

}  // namespace bnmlp
