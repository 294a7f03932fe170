#include "server/response_conversion.h"

#include <vector>

#include "server/api_enums.h"
#include "server/proto_fields.h"
#include "server/tensor_views.h"

namespace bnmlp {
namespace {

void VectorToTensor(const Vector<float>& vector, v1::Tensor* tensor) {
  if (vector.size() == 0) return;  // absent parts stay empty
  CopyToTensor(vector.data(), {vector.size()}, tensor);
}

}  // namespace

void ProgressToProto(const TrainingProgress& p, int64_t version,
                     v1::TrainProgress* out) {
  ProgressFieldsToProto(p, out);
  out->set_version(version);
}

v1::TrainResponse ProgressEvent(const ProgressRecord& record) {
  v1::TrainResponse response;
  ProgressToProto(record.progress, record.version,
                  record.progress.epoch_end ? response.mutable_epoch_end()
                                            : response.mutable_progress());
  return response;
}

v1::TrainResponse DoneEvent(const ProgressRecord& record) {
  v1::TrainResponse response;
  ProgressToProto(record.progress, record.version, response.mutable_done());
  return response;
}

void ModelStatusToProto(const ModelStatus& status, v1::ModelInfo* info) {
  info->set_name(status.name);
  ConfigToProto(status.config, info);
  info->set_version(status.version);
  info->set_parameter_count(status.parameter_count);
  info->set_training_state(TrainingStateToProto(status.training_state));
  if (status.last_progress.has_value()) {
    ProgressToProto(status.last_progress->progress,
                    status.last_progress->version,
                    info->mutable_last_progress());
  }
  info->set_last_error(status.last_error);
  info->mutable_retained_versions()->Add(status.retained_versions.begin(),
                                         status.retained_versions.end());
  info->set_durable_version(status.durable_version);
}

void ParametersToProto(const Model<float>& model,
                       v1::GetParametersResponse* response) {
  const std::vector<int64_t>& sizes = model.config().layer_sizes;
  response->mutable_layer_sizes()->Add(sizes.begin(), sizes.end());
  for (const LayerParameters<float>& layer : model.layers()) {
    v1::LayerParameters* out = response->add_layers();
    CopyToTensor(layer.weight.data(),
                 {layer.weight.rows(), layer.weight.cols()},
                 out->mutable_weight());
    VectorToTensor(layer.bias, out->mutable_bias());
    VectorToTensor(layer.gamma, out->mutable_gamma());
    VectorToTensor(layer.beta, out->mutable_beta());
    VectorToTensor(layer.running_mean, out->mutable_running_mean());
    VectorToTensor(layer.running_var, out->mutable_running_var());
  }
}

}  // namespace bnmlp
