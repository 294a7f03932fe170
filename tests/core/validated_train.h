// ValidateTrainInputs then Train: the engine's two steps in one call, for
// tests that are about training rather than validation.
#ifndef BNMLP_TESTS_CORE_VALIDATED_TRAIN_H_
#define BNMLP_TESTS_CORE_VALIDATED_TRAIN_H_

#include "absl/status/statusor.h"
#include "common/status_macros.h"
#include "core/trainer.h"

namespace bnmlp::testing {

template <typename T>
absl::StatusOr<TrainingProgress> ValidateAndTrain(
    Model<T>* model, const NonDeduced<Dataset<T>>& train,
    const NonDeduced<Dataset<T>>* validation, const TrainOptions& options,
    const NonDeduced<TrainCallbacks<T>>& callbacks = {}) {
  BNMLP_ASSIGN_OR_RETURN(
      const TrainingInputs<T> inputs,
      ValidateTrainInputs(model->config(), train, validation, options));
  return Train(model, inputs, callbacks);
}

}  // namespace bnmlp::testing

#endif  // BNMLP_TESTS_CORE_VALIDATED_TRAIN_H_
