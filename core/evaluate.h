// Loss and accuracy of a model on a dataset, in evaluation mode.
#ifndef BNMLP_CORE_EVALUATE_H_
#define BNMLP_CORE_EVALUATE_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "core/dataset.h"
#include "core/inference_model.h"
#include "core/model.h"

namespace bnmlp {

struct Evaluation {
  double loss = 0;      // mean cross-entropy, or mean squared error
  double accuracy = 0;  // fraction of correct argmax; 0 for regression
  int64_t samples = 0;
};

// Validates `data` (ValidateDataset: INVALID_ARGUMENT naming the field if it
// does not fit the model), folds the model (InferenceModel::FromModel) and
// evaluates it with the running statistics.
template <typename T>
absl::StatusOr<Evaluation> Evaluate(const Model<T>& model,
                                    const Dataset<T>& data);

// Evaluates an already folded model on already validated data, without
// checking any value again (the trainer's validation set, every epoch):
// the folded Predict over chunks of samples (bounded memory), then the loss.
// INVALID_ARGUMENT only if `data` was validated for another model shape
// (ValidatedDataset::Fits, O(1)). `workspace` as for Predict.
template <typename T>
absl::StatusOr<Evaluation> Evaluate(const InferenceModel<T>& model,
                                    const ValidatedDataset<T>& data,
                                    PredictWorkspace<T>& workspace);

}  // namespace bnmlp

#endif  // BNMLP_CORE_EVALUATE_H_
