#include "core/optimizer.h"

#include <cmath>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bnmlp {
namespace {

using ::testing::HasSubstr;

// A 1-1-2 pre-activation model: one weight, gamma and beta in the hidden
// layer; two weights and two biases in the output layer.
Model<double> TinyModel() {
  ModelConfig c;
  c.layer_sizes = {1, 1, 2};
  return *Model<double>::Create(c);
}

std::vector<LayerGradients<double>> Gradients(double g) {
  std::vector<LayerGradients<double>> grads(2);
  grads[0].weight = RowMajorMatrix<double>::Constant(1, 1, g);
  grads[0].gamma = Vector<double>::Constant(1, g);
  grads[0].beta = Vector<double>::Constant(1, g);
  grads[1].weight = RowMajorMatrix<double>::Constant(2, 1, g);
  grads[1].bias = Vector<double>::Constant(2, g);
  return grads;
}

TEST(OptimizerTest, SgdMomentumAndWeightDecayFollowTorch) {
  Model<double> m = TinyModel();
  m.mutable_layer(0).weight(0, 0) = 2;
  m.mutable_layer(0).beta(0) = 2;
  OptimizerOptions o;
  o.learning_rate = 0.1;
  o.momentum = 0.5;
  o.weight_decay = 0.25;
  Optimizer<double> sgd(o, m);
  sgd.Step(Gradients(1), &m);
  // g = 1 + 0.25 * 2 = 1.5; v = g; w = 2 - 0.1 * 1.5.
  EXPECT_DOUBLE_EQ(m.layer(0).weight(0, 0), 1.85);
  // No decay on beta: 2 - 0.1 * 1.
  EXPECT_DOUBLE_EQ(m.layer(0).beta(0), 1.9);
  sgd.Step(Gradients(1), &m);
  // g = 1 + 0.25 * 1.85 = 1.4625; v = 0.5 * 1.5 + 1.4625 = 2.2125.
  EXPECT_DOUBLE_EQ(m.layer(0).weight(0, 0), 1.85 - 0.1 * 2.2125);
  EXPECT_DOUBLE_EQ(m.layer(0).beta(0), 1.9 - 0.1 * 1.5);
  EXPECT_EQ(sgd.steps(), 2);
}

TEST(OptimizerTest, NesterovStepsAlongGradientPlusMomentum) {
  Model<double> m = TinyModel();
  OptimizerOptions o;
  o.learning_rate = 0.1;
  o.momentum = 0.5;
  o.nesterov = true;
  Optimizer<double> sgd(o, m);
  sgd.Step(Gradients(1), &m);  // v = 1; d = 1 + 0.5 * 1
  EXPECT_DOUBLE_EQ(m.layer(0).beta(0), -0.15);
}

TEST(OptimizerTest, AdamIsBiasCorrected) {
  Model<double> m = TinyModel();
  OptimizerOptions o;
  o.kind = OptimizerKind::kAdam;
  o.learning_rate = 0.01;
  Optimizer<double> adam(o, m);
  adam.Step(Gradients(4), &m);
  // Step 1: m_hat = g, v_hat = g^2: the step is lr * g / (|g| + eps).
  EXPECT_NEAR(m.layer(0).beta(0), -0.01 * 4 / (4 + 1e-8), 1e-15);
  adam.Step(Gradients(4), &m);
  EXPECT_NEAR(m.layer(0).beta(0), -0.02 * 4 / (4 + 1e-8), 1e-12);
}

TEST(OptimizerTest, StepsOnThePoolItWasGiven) {
  Model<double> m = TinyModel();
  ComputePool pool(2);
  ComputePool& default_pool = ComputePool::Default();
  const int64_t default_calls = default_pool.parallel_for_calls();
  Optimizer<double> sgd(OptimizerOptions(), m, pool);
  sgd.Step(Gradients(1), &m);
  EXPECT_EQ(pool.parallel_for_calls(), 1);
  EXPECT_EQ(default_pool.parallel_for_calls(), default_calls);
}

TEST(OptimizerTest, DefaultsAreTheApis) {
  const OptimizerOptions o;
  EXPECT_EQ(o.kind, OptimizerKind::kSgd);
  EXPECT_EQ(o.learning_rate, api_defaults::kSgdLearningRate);
  EXPECT_EQ(o.momentum, api_defaults::kSgdMomentum);
  EXPECT_EQ(o.weight_decay, api_defaults::kWeightDecay);
}

// Steps split across two optimizers (the second restored from the first's
// exported state) land exactly where one optimizer's steps do.
TEST(OptimizerTest, RestoredStateContinuesBitForBit) {
  for (OptimizerKind kind : {OptimizerKind::kSgd, OptimizerKind::kAdam}) {
    OptimizerOptions o;
    o.kind = kind;
    o.learning_rate = 0.1;
    o.momentum = 0.5;
    Model<double> straight = TinyModel();
    Optimizer<double> one(o, straight);
    for (double g : {1.0, -0.5, 2.0, 0.25}) one.Step(Gradients(g), &straight);

    Model<double> split = TinyModel();
    Optimizer<double> first(o, split);
    for (double g : {1.0, -0.5}) first.Step(Gradients(g), &split);
    const OptimizerState<double> state = first.ExportState();
    EXPECT_EQ(state.steps, 2);
    EXPECT_EQ(state.kind, kind);
    Optimizer<double> second(o, split);
    ASSERT_TRUE(second.RestoreState(state).ok());
    EXPECT_EQ(second.steps(), 2);
    for (double g : {2.0, 0.25}) second.Step(Gradients(g), &split);
    for (int l = 0; l < 2; ++l) {
      EXPECT_EQ(split.layer(l).weight, straight.layer(l).weight);
      EXPECT_EQ(split.layer(l).bias, straight.layer(l).bias);
      EXPECT_EQ(split.layer(l).gamma, straight.layer(l).gamma);
      EXPECT_EQ(split.layer(l).beta, straight.layer(l).beta);
    }
  }
}

TEST(OptimizerTest, RestoreRefusesStateThatDoesNotFit) {
  Model<double> m = TinyModel();
  OptimizerOptions sgd_options;
  Optimizer<double> sgd(sgd_options, m);
  sgd.Step(Gradients(1), &m);
  OptimizerOptions adam_options;
  adam_options.kind = OptimizerKind::kAdam;
  Optimizer<double> adam(adam_options, m);
  absl::Status kind = adam.RestoreState(sgd.ExportState());
  EXPECT_EQ(kind.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(kind.message(), HasSubstr("SGD"));

  OptimizerState<double> state = sgd.ExportState();
  state.first[0] = Vector<double>::Zero(5);
  Optimizer<double> fresh(sgd_options, m);
  absl::Status size = fresh.RestoreState(state);
  EXPECT_EQ(size.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(size.message(), HasSubstr("tensor 0"));
  EXPECT_EQ(fresh.steps(), 0) << "a refused state leaves the optimizer as is";

  state = sgd.ExportState();
  state.first[0](0) = std::nan("");
  EXPECT_EQ(fresh.RestoreState(state).code(),
            absl::StatusCode::kInvalidArgument);
  state = sgd.ExportState();
  state.first.pop_back();
  EXPECT_EQ(fresh.RestoreState(state).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ValidateOptimizerOptionsTest, NamesTheField) {
  struct Case {
    OptimizerOptions o;
    const char* message;
  };
  OptimizerOptions lr, nan_lr, momentum, decay, nesterov, adam_momentum;
  OptimizerOptions huge_lr, tiny_lr, huge_decay, tiny_adam_eps;
  huge_lr.learning_rate = 1e300;   // infinite in float
  tiny_lr.learning_rate = 1e-50;   // 0 in float
  huge_decay.weight_decay = 1e39;  // infinite in float
  tiny_adam_eps.adam_epsilon = 1e-50;
  lr.learning_rate = -1;
  nan_lr.learning_rate = std::nan("");
  momentum.momentum = 1;
  decay.weight_decay = -0.1;
  nesterov.momentum = 0;
  nesterov.nesterov = true;
  adam_momentum.kind = OptimizerKind::kAdam;
  adam_momentum.momentum = 7;  // ignored by Adam
  EXPECT_TRUE(ValidateOptimizerOptions(adam_momentum).ok());
  for (const Case& c :
       {Case{lr, "learning_rate must be in (0, inf), got -1"},
        Case{nan_lr, "learning_rate must be in (0, inf), got nan"},
        Case{momentum, "momentum must be in [0, 1), got 1"},
        Case{decay, "weight_decay must be in [0, inf)"},
        Case{nesterov, "nesterov requires momentum > 0"},
        Case{huge_lr,
             "learning_rate must be at most 3.40282e+38 (float32's "
             "largest value), got 1e+300"},
        Case{tiny_lr,
             "learning_rate must be at least 1.17549e-38 (float32's "
             "smallest normal value), got 1e-50"},
        Case{huge_decay, "weight_decay must be at most 3.40282e+38"},
        Case{tiny_adam_eps, "adam_epsilon must be at least 1.17549e-38"}}) {
    const absl::Status s = ValidateOptimizerOptions(c.o);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(s.message(), HasSubstr(c.message));
  }
}

}  // namespace
}  // namespace bnmlp
