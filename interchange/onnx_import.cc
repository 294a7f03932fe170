#include "interchange/onnx_import.h"

#include <limits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "interchange/layer_assembly.h"
#include "interchange/onnx_graph.h"
#include "interchange/onnx_steps.h"
#include "onnx/onnx_pb.h"

namespace bnmlp {
namespace {

constexpr int64_t kMinIrVersion = 3;
constexpr int64_t kMaxIrVersion = 10;
constexpr int64_t kMinOpset = 9;
constexpr int64_t kMaxOpset = 21;

absl::StatusOr<onnx::ModelProto> Parse(absl::string_view file) {
  if (file.empty()) {
    return absl::InvalidArgumentError("the file is empty");
  }
  if (file.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    return absl::InvalidArgumentError(
        absl::StrCat("the file has ", file.size(),
                     " bytes; an ONNX file holds less than 2 GiB"));
  }
  onnx::ModelProto model;
  if (!model.ParseFromArray(file.data(), static_cast<int>(file.size()))) {
    return absl::InvalidArgumentError(
        absl::StrCat("the ", file.size(),
                     " bytes are not an ONNX model (they do not parse as "
                     "onnx.ModelProto: truncated, or another format?)"));
  }
  return model;
}

absl::Status CheckVersions(const onnx::ModelProto& model) {
  if (model.ir_version() < kMinIrVersion ||
      model.ir_version() > kMaxIrVersion) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ir_version: expected ", kMinIrVersion, " to ", kMaxIrVersion, ", got ",
        model.ir_version(),
        model.ir_version() == 0 ? " (unset: is this an ONNX model?)" : ""));
  }
  if (!model.has_graph()) {
    return absl::InvalidArgumentError("the model has no graph");
  }
  if (model.functions_size() > 0) {
    return absl::InvalidArgumentError(
        "the model defines local functions; bnmlp imports plain graphs");
  }
  int64_t opset = -1;
  for (const onnx::OperatorSetIdProto& import : model.opset_import()) {
    if (import.domain().empty() || import.domain() == "ai.onnx") {
      opset = import.version();
    }
  }
  if (opset < kMinOpset || opset > kMaxOpset) {
    return absl::InvalidArgumentError(
        absl::StrCat("opset_import: expected the default ONNX opset, version ",
                     kMinOpset, " to ", kMaxOpset, ", got ",
                     opset < 0 ? std::string("none") : absl::StrCat(opset)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Model<float>> ImportOnnx(absl::string_view file,
                                        const OnnxImportOptions& options) {
  BNMLP_ASSIGN_OR_RETURN(const onnx::ModelProto model, Parse(file));
  BNMLP_RETURN_IF_ERROR(CheckVersions(model));
  BNMLP_ASSIGN_OR_RETURN(const OnnxChain chain,
                         ExtractChain(model.graph(), options.max_parameters));
  BNMLP_ASSIGN_OR_RETURN(const std::vector<Step> steps, ReadSteps(chain));
  return AssembleModel(steps, options.max_parameters);
}

}  // namespace bnmlp
