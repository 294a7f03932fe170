// Models for the registry's tests (model_registry_test.cc,
// training_run_test.cc).
#ifndef BNMLP_TESTS_SERVER_MODEL_REGISTRY_TEST_UTIL_H_
#define BNMLP_TESTS_SERVER_MODEL_REGISTRY_TEST_UTIL_H_

#include "core/model.h"
#include "core/model_config.h"
#include "core/trainer.h"

namespace bnmlp::registry_testing {

inline ModelConfig SmallConfig() {
  ModelConfig config;
  config.layer_sizes = {2, 4, 2};
  config.seed = 11;
  return config;
}

inline TrainingProgress EpochEnd(int epoch) {
  TrainingProgress progress;
  progress.epoch = epoch;
  progress.epochs = 10;
  progress.epoch_end = true;
  return progress;
}

// A model that differs from any freshly created one.
inline Model<float> Perturbed(const Model<float>& model) {
  Model<float> copy = model;
  copy.mutable_layer(0).weight(0, 0) += 1.0f;
  return copy;
}

}  // namespace bnmlp::registry_testing

#endif  // BNMLP_TESTS_SERVER_MODEL_REGISTRY_TEST_UTIL_H_
