#include "server/dataset_conversion.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "server/tensor_views.h"

namespace bnmlp {

absl::StatusOr<RowLayout> RowLayoutFromProto(const v1::DatasetHeader& header) {
  RowLayout layout;
  layout.features = header.features();
  layout.target_width = header.target_width();
  switch (header.target_kind()) {
    case v1::TARGET_KIND_CLASS_LABELS:
      layout.target_kind = TargetKind::kClassLabels;
      break;
    case v1::TARGET_KIND_VALUES:
      layout.target_kind = TargetKind::kValues;
      break;
    default:
      return absl::InvalidArgumentError(absl::StrCat(
          "header.target_kind: expected TARGET_KIND_CLASS_LABELS or "
          "TARGET_KIND_VALUES, got ",
          header.target_kind() == v1::TARGET_KIND_UNSPECIFIED
              ? "TARGET_KIND_UNSPECIFIED (it is required)"
              : absl::StrCat(header.target_kind())));
  }
  if (absl::Status valid = ValidateRowLayout(layout); !valid.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("header.", valid.message()));
  }
  return layout;
}

absl::StatusOr<Dataset<float>> ChunkRowsFromProto(
    const v1::DatasetChunk& chunk) {
  if (IsEmptyTensor(chunk.x())) {
    return absl::InvalidArgumentError(
        "chunk.x: required: expected shape [rows, features] with rows >= 1");
  }
  BNMLP_ASSIGN_OR_RETURN(ConstMatrixMap<float> x,
                         SampleMatrixFromTensor(chunk.x(), "chunk.x"));
  BNMLP_ASSIGN_OR_RETURN(
      ConstMatrixMap<float> targets,
      SampleMatrixFromTensor(chunk.targets(), "chunk.targets"));
  // Eigen maps are constructed, never assigned (assignment copies values).
  return Dataset<float>{
      x, absl::MakeConstSpan(chunk.labels().data(), chunk.labels().size()),
      targets};
}

void DatasetStatusToProto(const DatasetStatus& status, v1::DatasetInfo* info) {
  info->set_name(status.name);
  info->set_rows(status.rows);
  info->set_features(status.layout.features);
  info->set_target_kind(status.layout.target_kind == TargetKind::kClassLabels
                            ? v1::TARGET_KIND_CLASS_LABELS
                            : v1::TARGET_KIND_VALUES);
  info->set_target_width(status.layout.target_width);
  info->set_classes(status.classes);
  info->set_bytes(status.bytes);
  info->set_content_checksum(FormatContentChecksum(status.content_checksum));
  info->set_trainings_using(status.trainings_using);
}

}  // namespace bnmlp
