#include "tests/server/predict_batcher_test_util.h"

#include "core/model.h"

namespace bnmlp::batcher_testing {

std::shared_ptr<const InferenceModel<float>> MakeModel(uint64_t seed,
                                                       ComputePool& pool) {
  ModelConfig config;
  config.layer_sizes = {784, 256, 128, 10};
  config.seed = seed;
  absl::StatusOr<Model<float>> model = Model<float>::Create(config);
  EXPECT_TRUE(model.ok()) << model.status();
  return std::make_shared<const InferenceModel<float>>(
      InferenceModel<float>::FromModel(*model, pool));
}

::testing::AssertionResult ComputedOnceCorrectly(const TestCall& call) {
  if (call.done_count() != 1) {
    return ::testing::AssertionFailure()
           << "Done ran " << call.done_count() << " times";
  }
  if (!call.status().ok()) {
    return ::testing::AssertionFailure() << "Done got " << call.status();
  }
  if (call.MaxError() > kTolerance) {
    return ::testing::AssertionFailure() << "outputs of " << call.outputs.cols()
                                         << " rows off by " << call.MaxError();
  }
  return ::testing::AssertionSuccess();
}

void Submit(PredictBatcher& batcher, TestCall& call) {
  batcher.Submit(*call.model, call, PredictOptions());
}

bool Withdraw(PredictBatcher& batcher, TestCall& call) {
  return batcher.Withdraw(*call.model, call);
}

}  // namespace bnmlp::batcher_testing
