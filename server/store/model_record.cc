#include "server/store/model_record.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/build_info.h"
#include "common/status_macros.h"
#include "server/api_enums.h"
#include "server/proto_fields.h"
#include "server/store/durable_file.h"
#include "server/store/model_version.pb.h"

namespace bnmlp {
namespace {

namespace pb = ::bnmlp::store::v1;

template <typename Tensor>
void CopyOut(const Tensor& tensor,
             google::protobuf::RepeatedField<float>* out) {
  out->Resize(static_cast<int>(tensor.size()), 0.0f);
  std::copy(tensor.data(), tensor.data() + tensor.size(), out->mutable_data());
}

// Copies `values` into `tensor`, whose size (from Model::Create) is the one
// the config implies.
template <typename Tensor>
absl::Status CopyIn(const google::protobuf::RepeatedField<float>& values,
                    absl::string_view what, Tensor* tensor) {
  if (values.size() != tensor->size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": expected ", tensor->size(), " values, got ", values.size()));
  }
  std::copy(values.begin(), values.end(), tensor->data());
  if (!tensor->allFinite()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": expected finite values"));
  }
  return absl::OkStatus();
}

TrainingProgress ProgressIn(const pb::ProgressRecord& r) {
  TrainingProgress p;
  p.epoch = r.epoch();
  p.epochs = r.epochs();
  p.batch = r.batch();
  p.batches_per_epoch = r.batches_per_epoch();
  p.loss = r.loss();
  p.accuracy = r.accuracy();
  p.has_validation = r.has_validation();
  p.validation_loss = r.validation_loss();
  p.validation_accuracy = r.validation_accuracy();
  p.samples_per_second = r.samples_per_second();
  p.elapsed_seconds = r.elapsed_seconds();
  p.epoch_end = true;
  return p;
}

absl::StatusOr<ModelConfig> ConfigIn(const pb::ModelConfigRecord& r) {
  ModelConfig config;
  config.layer_sizes.assign(r.layer_sizes().begin(), r.layer_sizes().end());
  BNMLP_ASSIGN_OR_RETURN(config.task, TaskFromProto(r.task(), "config.task"));
  BNMLP_ASSIGN_OR_RETURN(
      config.normalization,
      NormalizationFromProto(r.normalization(), "config.normalization"));
  BNMLP_ASSIGN_OR_RETURN(
      config.activation,
      ActivationFromProto(r.activation(), "config.activation"));
  config.batch_norm_momentum = r.batch_norm_momentum();
  config.batch_norm_epsilon = r.batch_norm_epsilon();
  config.seed = r.seed();
  return config;
}

absl::StatusOr<Model<float>> ModelIn(const pb::ModelVersionRecord& record,
                                     int64_t max_parameters) {
  BNMLP_ASSIGN_OR_RETURN(const ModelConfig config, ConfigIn(record.config()));
  // Limits first: nothing is allocated for a config that does not fit.
  BNMLP_RETURN_IF_ERROR(ValidateModelConfig(config, max_parameters));
  if (record.layers_size() + 1 != static_cast<int>(config.layer_sizes.size())) {
    return absl::InvalidArgumentError(
        absl::StrCat("layers: expected ", config.layer_sizes.size() - 1,
                     " layers for the config, got ", record.layers_size()));
  }
  // Model::Create gives every tensor the shape the config implies.
  BNMLP_ASSIGN_OR_RETURN(Model<float> model, Model<float>::Create(config));
  for (int l = 0; l < model.num_layers(); ++l) {
    const pb::LayerRecord& in = record.layers(l);
    LayerParameters<float>& p = model.mutable_layer(l);
    const std::string layer = absl::StrCat("layer ", l + 1, " ");
    BNMLP_RETURN_IF_ERROR(CopyIn(in.weight(), layer + "weight", &p.weight));
    BNMLP_RETURN_IF_ERROR(CopyIn(in.bias(), layer + "bias", &p.bias));
    BNMLP_RETURN_IF_ERROR(CopyIn(in.gamma(), layer + "gamma", &p.gamma));
    BNMLP_RETURN_IF_ERROR(CopyIn(in.beta(), layer + "beta", &p.beta));
    BNMLP_RETURN_IF_ERROR(
        CopyIn(in.running_mean(), layer + "running_mean", &p.running_mean));
    BNMLP_RETURN_IF_ERROR(
        CopyIn(in.running_var(), layer + "running_var", &p.running_var));
    if ((p.running_var.array() < 0).any()) {
      return absl::InvalidArgumentError(
          absl::StrCat(layer, "running_var: expected values >= 0"));
    }
  }
  return model;
}

// The checkpoint, checked against the model through the optimizer that
// would restore it (the one place that knows the slot layout).
absl::StatusOr<TrainingCheckpoint<float>> CheckpointIn(
    const pb::CheckpointRecord& r, const Model<float>& model) {
  TrainingCheckpoint<float> checkpoint;
  BNMLP_ASSIGN_OR_RETURN(
      checkpoint.optimizer.kind,
      OptimizerFromProto(r.optimizer(), "checkpoint.optimizer"));
  checkpoint.optimizer.steps = r.steps();
  if (r.epochs_completed() < 0) {
    return absl::InvalidArgumentError(
        "checkpoint.epochs_completed: expected >= 0");
  }
  checkpoint.epochs_completed = r.epochs_completed();
  for (const pb::FloatArray& a : r.first()) {
    checkpoint.optimizer.first.emplace_back(
        Eigen::Map<const Vector<float>>(a.values().data(), a.values_size()));
  }
  for (const pb::FloatArray& a : r.second()) {
    checkpoint.optimizer.second.emplace_back(
        Eigen::Map<const Vector<float>>(a.values().data(), a.values_size()));
  }
  OptimizerOptions options;
  options.kind = checkpoint.optimizer.kind;
  Optimizer<float> probe(options, model);
  if (absl::Status fits = probe.RestoreState(checkpoint.optimizer);
      !fits.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint: ", fits.message()));
  }
  return checkpoint;
}

}  // namespace

std::string EncodeModelVersionPayload(const ModelVersion& version) {
  pb::ModelVersionRecord record;
  record.set_name(version.name);
  record.set_version(version.version);
  const Model<float>& model = *version.model;
  ConfigToProto(model.config(), record.mutable_config());
  for (const LayerParameters<float>& p : model.layers()) {
    pb::LayerRecord* layer = record.add_layers();
    CopyOut(p.weight, layer->mutable_weight());
    CopyOut(p.bias, layer->mutable_bias());
    CopyOut(p.gamma, layer->mutable_gamma());
    CopyOut(p.beta, layer->mutable_beta());
    CopyOut(p.running_mean, layer->mutable_running_mean());
    CopyOut(p.running_var, layer->mutable_running_var());
  }
  if (version.checkpoint != nullptr) {
    const TrainingCheckpoint<float>& checkpoint = *version.checkpoint;
    pb::CheckpointRecord* r = record.mutable_checkpoint();
    r->set_optimizer(OptimizerToProto(checkpoint.optimizer.kind));
    r->set_steps(checkpoint.optimizer.steps);
    r->set_epochs_completed(checkpoint.epochs_completed);
    for (const Vector<float>& v : checkpoint.optimizer.first) {
      CopyOut(v, r->add_first()->mutable_values());
    }
    for (const Vector<float>& v : checkpoint.optimizer.second) {
      CopyOut(v, r->add_second()->mutable_values());
    }
  }
  if (version.progress.has_value()) {
    ProgressFieldsToProto(*version.progress, record.mutable_progress());
  }
  record.set_written_by(absl::StrCat("bnmlp-server ", ProjectVersion()));
  return record.SerializeAsString();
}

std::string EncodeModelVersionFile(const ModelVersion& version) {
  return FrameInMemory(kModelVersionMagic, kModelVersionFormat,
                       EncodeModelVersionPayload(version));
}

absl::StatusOr<ModelVersion> DecodeModelVersionPayload(
    absl::string_view payload, int64_t max_parameters) {
  pb::ModelVersionRecord record;
  if (!record.ParseFromArray(payload.data(),
                             static_cast<int>(payload.size()))) {
    return absl::InvalidArgumentError(
        "the model record does not parse (not a bnmlp model file, or a "
        "damaged one)");
  }
  ModelVersion version;
  version.name = record.name();
  version.version = record.version();
  if (version.version < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("version: expected >= 1, got ", version.version));
  }
  BNMLP_ASSIGN_OR_RETURN(Model<float> model, ModelIn(record, max_parameters));
  if (record.has_checkpoint()) {
    BNMLP_ASSIGN_OR_RETURN(TrainingCheckpoint<float> checkpoint,
                           CheckpointIn(record.checkpoint(), model));
    version.checkpoint = std::make_shared<const TrainingCheckpoint<float>>(
        std::move(checkpoint));
  }
  if (record.has_progress()) version.progress = ProgressIn(record.progress());
  version.model = std::make_shared<const Model<float>>(std::move(model));
  return version;
}

absl::StatusOr<ModelVersion> DecodeModelVersionFile(absl::string_view file,
                                                    int64_t max_parameters) {
  absl::StatusOr<absl::string_view> payload = ParseDurableFrame(
      file, kModelVersionMagic, kModelVersionFormat, kModelVersionFormat);
  if (!payload.ok()) {
    // A damaged upload is the client's input, not our data.
    return absl::InvalidArgumentError(absl::StrCat(
        "not a valid bnmlp model file: ", payload.status().message()));
  }
  return DecodeModelVersionPayload(*payload, max_parameters);
}

std::string EncodeTrainingStatePayload(const StoredTrainingState& state) {
  pb::TrainingStateRecord record;
  record.set_training_state(TrainingStateToProto(state.state));
  record.set_last_error(state.last_error);
  if (state.last_progress.has_value()) {
    ProgressFieldsToProto(*state.last_progress, record.mutable_last_progress());
  }
  return record.SerializeAsString();
}

absl::StatusOr<StoredTrainingState> DecodeTrainingStatePayload(
    absl::string_view payload) {
  pb::TrainingStateRecord record;
  if (!record.ParseFromArray(payload.data(),
                             static_cast<int>(payload.size()))) {
    return absl::InvalidArgumentError("the training state does not parse");
  }
  StoredTrainingState state;
  BNMLP_ASSIGN_OR_RETURN(
      state.state,
      TrainingStateFromProto(record.training_state(), "training_state"));
  state.last_error = record.last_error();
  if (record.has_last_progress()) {
    state.last_progress = ProgressIn(record.last_progress());
  }
  return state;
}

}  // namespace bnmlp
