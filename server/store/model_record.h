// One model version as bytes: the payload of a model store version file and
// of a FORMAT_BNMLP export, which are the same bytes (DESIGN.md section 7).
//
// The file is a durable frame (server/store/durable_file.h) with magic
// "BNMLPMDL" and format version 1 around a serialized
// bnmlp.store.v1.ModelVersionRecord (server/store/model_version.proto):
// the config, every parameter and running statistic, the optimizer state
// and schedule position (when the model was trained), and the figures of
// the epoch that produced the version.
#ifndef BNMLP_SERVER_STORE_MODEL_RECORD_H_
#define BNMLP_SERVER_STORE_MODEL_RECORD_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/model.h"
#include "core/trainer.h"
#include "server/training_state.h"

namespace bnmlp {

inline constexpr absl::string_view kModelVersionMagic = "BNMLPMDL";
inline constexpr uint32_t kModelVersionFormat = 1;

// A published version with what it takes to resume training from it.
struct ModelVersion {
  std::string name;
  int64_t version = 0;
  std::shared_ptr<const Model<float>> model;
  // Null for a model never trained (resuming starts a fresh optimizer).
  std::shared_ptr<const TrainingCheckpoint<float>> checkpoint;
  // The epoch end that produced this version, if it came from training.
  std::optional<TrainingProgress> progress;
};

// The serialized record (the frame's payload). `version.model` must be set.
std::string EncodeModelVersionPayload(const ModelVersion& version);

// The whole file: frame + payload (what ExportModel sends).
std::string EncodeModelVersionFile(const ModelVersion& version);

// Parses a payload. INVALID_ARGUMENT naming the first thing that does not
// fit: an unparsable record, a config ValidateModelConfig refuses (or over
// `max_parameters`: RESOURCE_EXHAUSTED), a tensor whose size differs from
// what the config implies, a non-finite value, an optimizer state that does
// not fit the model. Nothing is allocated beyond what the payload holds and
// the config (checked against `max_parameters` first) implies.
absl::StatusOr<ModelVersion> DecodeModelVersionPayload(
    absl::string_view payload, int64_t max_parameters);

// A whole file (an import): checks the frame (magic, format version, size,
// CRC-32) and then the payload. Every failure is INVALID_ARGUMENT (or
// RESOURCE_EXHAUSTED for limits) naming what is wrong.
absl::StatusOr<ModelVersion> DecodeModelVersionFile(absl::string_view file,
                                                    int64_t max_parameters);

// A model's training state as kept in the store's STATE file.
struct StoredTrainingState {
  TrainingState state = TrainingState::kUntrained;
  std::string last_error;
  std::optional<TrainingProgress> last_progress;
};
inline constexpr absl::string_view kTrainingStateMagic = "BNMLPSTA";
inline constexpr uint32_t kTrainingStateFormat = 1;
std::string EncodeTrainingStatePayload(const StoredTrainingState& state);
absl::StatusOr<StoredTrainingState> DecodeTrainingStatePayload(
    absl::string_view payload);

}  // namespace bnmlp

#endif  // BNMLP_SERVER_STORE_MODEL_RECORD_H_
