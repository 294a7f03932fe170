// The engine's configuration and training progress written field by field
// into protobuf messages that name them as the API does: the API's own
// messages for clients (v1::ModelInfo, v1::TrainProgress) and the model
// store's records on disk (pb::ModelConfigRecord, pb::ProgressRecord),
// which keep the same names but are a format of their own. One writer each,
// so a field added to the engine is added to both or neither.
#ifndef BNMLP_SERVER_PROTO_FIELDS_H_
#define BNMLP_SERVER_PROTO_FIELDS_H_

#include "core/model_config.h"
#include "core/trainer.h"
#include "server/api_enums.h"

namespace bnmlp {

// Sets layer_sizes, task, normalization, activation, batch_norm_momentum,
// batch_norm_epsilon and seed.
template <typename ConfigMessage>
void ConfigToProto(const ModelConfig& config, ConfigMessage* message) {
  message->mutable_layer_sizes()->Add(config.layer_sizes.begin(),
                                      config.layer_sizes.end());
  message->set_task(TaskToProto(config.task));
  message->set_normalization(NormalizationToProto(config.normalization));
  message->set_activation(ActivationToProto(config.activation));
  message->set_batch_norm_momentum(config.batch_norm_momentum);
  message->set_batch_norm_epsilon(config.batch_norm_epsilon);
  message->set_seed(config.seed);
}

// Sets epoch, epochs, batch, batches_per_epoch, loss, accuracy,
// has_validation, validation_loss, validation_accuracy, samples_per_second
// and elapsed_seconds (batch counts in the message's own integer width).
template <typename ProgressMessage>
void ProgressFieldsToProto(const TrainingProgress& p,
                           ProgressMessage* message) {
  using Count = decltype(message->batch());
  message->set_epoch(p.epoch);
  message->set_epochs(p.epochs);
  message->set_batch(static_cast<Count>(p.batch));
  message->set_batches_per_epoch(static_cast<Count>(p.batches_per_epoch));
  message->set_loss(p.loss);
  message->set_accuracy(p.accuracy);
  message->set_has_validation(p.has_validation);
  message->set_validation_loss(p.validation_loss);
  message->set_validation_accuracy(p.validation_accuracy);
  message->set_samples_per_second(p.samples_per_second);
  message->set_elapsed_seconds(p.elapsed_seconds);
}

}  // namespace bnmlp

#endif  // BNMLP_SERVER_PROTO_FIELDS_H_
