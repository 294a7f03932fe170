// Loss and accuracy of a model on a dataset, in evaluation mode.
#ifndef BNMLP_CORE_EVALUATE_H_
#define BNMLP_CORE_EVALUATE_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "core/dataset.h"
#include "core/model.h"

namespace bnmlp {

struct Evaluation {
  double loss = 0;      // mean cross-entropy, or mean squared error
  double accuracy = 0;  // fraction of correct argmax; 0 for regression
  int64_t samples = 0;
};

// Runs Predict over `data` in chunks (bounded memory) with the running
// statistics. `data` must satisfy ValidateDataset (INVALID_ARGUMENT if not).
template <typename T>
absl::StatusOr<Evaluation> Evaluate(const Model<T>& model,
                                    const Dataset<T>& data);

// Evaluate without re-checking `data`, which the caller has already passed
// through ValidateDataset (the trainer's validation set, every epoch).
template <typename T>
Evaluation EvaluateValidated(const Model<T>& model, const Dataset<T>& data);

}  // namespace bnmlp

#endif  // BNMLP_CORE_EVALUATE_H_
