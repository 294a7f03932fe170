// bnmlp models from the steps of an ONNX graph: which arrangement of
// BatchNorm and activation the hidden layers use, what the task is, and the
// parameters in bnmlp's layout.
#ifndef BNMLP_INTERCHANGE_LAYER_ASSEMBLY_H_
#define BNMLP_INTERCHANGE_LAYER_ASSEMBLY_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "core/model.h"
#include "interchange/onnx_steps.h"

namespace bnmlp {

// The model `steps` compute, exactly (in evaluation mode):
// - a layer starts at each product; the last product is the output layer,
//   followed by Softmax (TASK classification) or nothing (regression: the
//   model outputs what the file outputs);
// - every hidden layer is followed by one of bnmlp's arrangements, the same
//   in all of them: BatchNorm then an activation (pre-activation),
//   activation then BatchNorm (post-activation), an activation alone (none),
//   or nothing (none, identity). BatchNorm alone is pre-activation with the
//   identity when no hidden product has a bias, else post-activation;
// - a pre-activation product's bias b moves into the running mean (mean -
//   b), where BatchNorm cancels it; missing biases elsewhere are zeros;
// - every BatchNorm has the same epsilon and momentum (the model's options;
//   defaults without BatchNorm).
// A model without hidden layers is NONE with the identity. INVALID_ARGUMENT
// naming the first step that does not fit; ValidateModelConfig's errors
// (RESOURCE_EXHAUSTED over `max_parameters`) before anything is allocated.
absl::StatusOr<Model<float>> AssembleModel(const std::vector<Step>& steps,
                                           int64_t max_parameters);

// The double that prints shortest (at most 9 significant digits) among
// those that round to `value` as a float: 1e-05 for the float nearest 1e-5.
double ShortestDecimal(float value);

}  // namespace bnmlp

#endif  // BNMLP_INTERCHANGE_LAYER_ASSEMBLY_H_
