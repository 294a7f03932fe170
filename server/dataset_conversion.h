// UploadDataset's messages as the registry's inputs, and the registry's
// datasets as DatasetInfo. Errors are INVALID_ARGUMENT naming the field
// ("header.target_kind", "chunk.x").
#ifndef BNMLP_SERVER_DATASET_CONVERSION_H_
#define BNMLP_SERVER_DATASET_CONVERSION_H_

#include "absl/status/statusor.h"
#include "bnmlp/v1/bnmlp.pb.h"
#include "core/dataset.h"
#include "core/stored_dataset.h"
#include "server/dataset_registry.h"

namespace bnmlp {

// The header's row layout, checked (ValidateRowLayout).
absl::StatusOr<RowLayout> RowLayoutFromProto(const v1::DatasetHeader& header);

// A chunk's rows as views into `chunk` (valid while it lives): x [n,
// features] as (features x n), labels, targets [n, width] as (width x n).
// Checks structure only (shapes, value counts); values are the builder's.
absl::StatusOr<Dataset<float>> ChunkRowsFromProto(
    const v1::DatasetChunk& chunk);

void DatasetStatusToProto(const DatasetStatus& status, v1::DatasetInfo* info);

}  // namespace bnmlp

#endif  // BNMLP_SERVER_DATASET_CONVERSION_H_
