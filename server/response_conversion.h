// The registry's and the engine's results as bnmlp.v1 responses.
#ifndef BNMLP_SERVER_RESPONSE_CONVERSION_H_
#define BNMLP_SERVER_RESPONSE_CONVERSION_H_

#include "bnmlp/v1/bnmlp.pb.h"
#include "core/model.h"
#include "core/trainer.h"
#include "server/model_registry.h"

namespace bnmlp {

// The figures of one point of a training run, with the version published
// by then.
void ProgressToProto(const TrainingProgress& progress, int64_t version,
                     v1::TrainProgress* out);

// One message of the Train stream: `progress` mid-epoch, `epoch_end` at an
// epoch end.
v1::TrainResponse ProgressEvent(const ProgressRecord& record);
// The stream's last message, the run's final summary.
v1::TrainResponse DoneEvent(const ProgressRecord& record);

void ModelStatusToProto(const ModelStatus& status, v1::ModelInfo* info);

// layer_sizes and every layer's tensors; absent parts stay empty tensors.
void ParametersToProto(const Model<float>& model,
                       v1::GetParametersResponse* response);

}  // namespace bnmlp

#endif  // BNMLP_SERVER_RESPONSE_CONVERSION_H_
