// Parity with PyTorch: every case of tests/testdata/golden_bnmlp.json (made
// by tests/testdata/make_golden.py with torch in float64; 14 networks: {pre,
// post, none} x {relu, tanh, sigmoid, identity} classification and pre/post
// relu regression), in double (1e-9) and float (1e-4): training-mode outputs
// and loss, every gradient and the input gradient, running statistics, eval
// outputs, two SGD and two Adam steps.
#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/optimizer.h"
#include "core/predict.h"
#include "core/training_pass.h"
#include "gtest/gtest.h"
#include "tests/core/golden_cases.h"

namespace bnmlp {
namespace {

using nlohmann::json;
using testing::CaseName;
using testing::GoldenFile;
using testing::GoldenModel;
using testing::GoldenOptimizer;
using testing::JsonVector;
using testing::JsonWeight;
using testing::SamplesAsColumns;

// Elementwise |ours - torch| <= tol * (|torch| + scale) + allowance: relative
// to each value, with a floor `scale` (by default the tensor's largest
// magnitude) so that entries that are zero up to rounding do not demand
// infinite precision. `allowance` is an extra absolute bound for quantities
// float32 cannot determine (see kGradientFree below).
template <typename A, typename B>
void ExpectTensorNear(const A& ours, const B& torch, double tol,
                      const std::string& what, double scale = -1,
                      double allowance = 0) {
  ASSERT_EQ(ours.rows(), torch.rows()) << what;
  ASSERT_EQ(ours.cols(), torch.cols()) << what;
  if (scale < 0) scale = torch.cwiseAbs().maxCoeff();
  for (Eigen::Index i = 0; i < torch.rows(); ++i) {
    for (Eigen::Index j = 0; j < torch.cols(); ++j) {
      const double t = torch(i, j);
      const double o = static_cast<double>(ours(i, j));
      ASSERT_LE(std::abs(o - t), tol * (std::abs(t) + scale) + allowance)
          << what << " at (" << i << ", " << j << "): ours " << o << ", torch "
          << t;
    }
  }
}

// Some gradients are exactly zero in exact arithmetic: with an identity
// activation, a BatchNorm downstream removes any shift, so the bias and beta
// feeding it get no gradient (cases pre_activation_identity and
// post_activation_identity). The golden file holds rounding noise there
// (~1e-17), and float32 noise is ~1e-8, the size of Adam's eps: Adam's
// m / (sqrt(v) + eps) turns that noise into a step of up to ~lr in an
// arbitrary direction. PyTorch in float32 does the same (it lands up to
// 1.5e-2 from its own float64 result on these cases), so for these tensors
// the float Adam check is Adam's step bound, |ours - torch| <= 2 lr per step,
// and BatchNorm running means downstream may move by momentum times the
// shift that bound allows.
constexpr double kGradientFree = 1e-12;

bool IsGradientFree(const json& gradient) {
  double largest = 0;
  for (const json& row : gradient) {
    if (row.is_array()) {
      for (const json& v : row)
        largest = std::max(largest, std::abs(v.get<double>()));
    } else {
      largest = std::max(largest, std::abs(row.get<double>()));
    }
  }
  return largest < kGradientFree;
}

// The largest gradient magnitude in a case: the scale of its gradients.
double GradientScale(const json& gradients) {
  double scale = 0;
  for (const json& layer : gradients) {
    for (const auto& [name, tensor] : layer.items()) {
      for (const json& row : tensor) {
        if (row.is_array()) {
          for (const json& v : row)
            scale = std::max(scale, std::abs(v.get<double>()));
        } else {
          scale = std::max(scale, std::abs(row.get<double>()));
        }
      }
    }
  }
  return scale;
}

void ExpectScalarNear(double ours, double torch, double tol,
                      const std::string& what) {
  EXPECT_LE(std::abs(ours - torch), tol * std::abs(torch))
      << what << ": ours " << ours << ", torch " << torch;
}

// Extra absolute bound per (layer, parameter name); 0 for exact parity.
using Allowance = std::function<double(size_t layer, const std::string& name)>;
const Allowance kNoAllowance = [](size_t, const std::string&) { return 0.0; };

template <typename T>
void ExpectParametersMatch(const Model<T>& model, const json& layers,
                           double tol, const std::string& what,
                           const Allowance& allowance) {
  ASSERT_EQ(static_cast<size_t>(model.num_layers()), layers.size());
  for (size_t l = 0; l < layers.size(); ++l) {
    const LayerParameters<T>& p = model.layer(static_cast<int>(l));
    const json& j = layers[l];
    const std::string at = absl::StrCat(what, " layer ", l, " ");
    ExpectTensorNear(p.weight, JsonWeight(j["weight"]), tol, at + "weight", -1,
                     allowance(l, "weight"));
    EXPECT_EQ(p.has_bias(), j.contains("bias")) << at;
    EXPECT_EQ(p.has_batch_norm(), j.contains("gamma")) << at;
    const std::pair<const char*, const Vector<T>*> vectors[] = {
        {"bias", &p.bias}, {"gamma", &p.gamma}, {"beta", &p.beta}};
    for (const auto& [name, ours] : vectors) {
      if (!j.contains(name)) continue;
      ExpectTensorNear(*ours, JsonVector(j[name]), tol, at + name, -1,
                       allowance(l, name));
    }
  }
}

template <typename T>
void ExpectRunningStatisticsMatch(const Model<T>& model, const json& buffers,
                                  double tol, const std::string& what,
                                  const Allowance& allowance = kNoAllowance) {
  for (size_t l = 0; l < buffers.size(); ++l) {
    const LayerParameters<T>& p = model.layer(static_cast<int>(l));
    const json& b = buffers[l];
    const std::string at = absl::StrCat(what, " layer ", l, " ");
    EXPECT_EQ(p.running_mean.size() > 0, b.contains("running_mean")) << at;
    if (!b.contains("running_mean")) continue;
    ExpectTensorNear(p.running_mean, JsonVector(b["running_mean"]), tol,
                     at + "running_mean", -1, allowance(l, "running_mean"));
    ExpectTensorNear(p.running_var, JsonVector(b["running_var"]), tol,
                     at + "running_var");
  }
}

struct Batch {
  Matrix<double> x;
  std::vector<int32_t> labels;
  Matrix<double> targets;
};

Batch GoldenBatch(const json& c) {
  Batch b;
  b.x = SamplesAsColumns(c["x"]);
  if (c.contains("labels")) b.labels = c["labels"].get<std::vector<int32_t>>();
  if (c.contains("targets")) b.targets = SamplesAsColumns(c["targets"]);
  return b;
}

template <typename T>
struct TypedBatch {
  explicit TypedBatch(const Batch& b)
      : x(b.x.cast<T>()), labels(b.labels), targets(b.targets.cast<T>()) {}
  ConstMatrixMap<T> X() const { return {x.data(), x.rows(), x.cols()}; }
  BatchTargets<T> Targets() const {
    BatchTargets<T> t;
    t.labels = labels;
    new (&t.targets)
        ConstMatrixMap<T>(targets.data(), targets.rows(), targets.cols());
    return t;
  }
  Matrix<T> x;
  std::vector<int32_t> labels;
  Matrix<T> targets;
};

class GoldenTest : public ::testing::TestWithParam<int> {
 protected:
  const json& Case() const { return GoldenFile()["cases"][GetParam()]; }

  template <typename T>
  void CheckForwardBackward(double tol) {
    const json& c = Case();
    Model<T> model = GoldenModel(c).Cast<T>();
    const TypedBatch<T> batch(GoldenBatch(c));
    TrainingPass<T> pass(model.config());
    absl::StatusOr<BatchResult> result = pass.Run(
        model, batch.X(), batch.Targets(), /*compute_input_gradient=*/true);
    ASSERT_TRUE(result.ok()) << result.status();
    const json& train = c["train"];
    ExpectScalarNear(result->loss, train["loss"], tol, "loss");
    ExpectTensorNear(pass.outputs(), SamplesAsColumns(train["outputs"]), tol,
                     "training outputs");
    ExpectTensorNear(pass.input_gradient(), SamplesAsColumns(train["grad_x"]),
                     tol, "grad_x");
    // Gradients are compared relative to the case's gradient scale, so a
    // gradient that is zero in exact arithmetic matches as rounding noise.
    const json& grads = train["gradients"];
    const double scale = GradientScale(grads);
    for (size_t l = 0; l < grads.size(); ++l) {
      const LayerGradients<T>& g = pass.gradients()[l];
      const json& j = grads[l];
      const std::string at = absl::StrCat("gradient layer ", l, " ");
      ExpectTensorNear(g.weight, JsonWeight(j["weight"]), tol, at + "weight",
                       scale);
      EXPECT_EQ(g.bias.size() > 0, j.contains("bias")) << at;
      if (j.contains("bias"))
        ExpectTensorNear(g.bias, JsonVector(j["bias"]), tol, at + "bias",
                         scale);
      if (j.contains("gamma"))
        ExpectTensorNear(g.gamma, JsonVector(j["gamma"]), tol, at + "gamma",
                         scale);
      if (j.contains("beta"))
        ExpectTensorNear(g.beta, JsonVector(j["beta"]), tol, at + "beta",
                         scale);
    }
    pass.UpdateRunningStatistics(&model);
    ExpectRunningStatisticsMatch(model, train["buffers_after"], tol,
                                 "running statistics after one forward");

    Matrix<T> eval(model.output_size(), batch.x.cols());
    MatrixMap<T> eval_map(eval.data(), eval.rows(), eval.cols());
    ASSERT_TRUE(Predict(model, batch.X(), eval_map).ok());
    ExpectTensorNear(
        eval, SamplesAsColumns(c["eval_after_one_train_forward"]["outputs"]),
        tol, "eval outputs");
  }

  template <typename T>
  void CheckOptimizerSteps(const char* section, OptimizerKind kind,
                           double tol) {
    const json& c = Case();
    Model<T> model = GoldenModel(c).Cast<T>();
    const TypedBatch<T> batch(GoldenBatch(c));
    TrainingPass<T> pass(model.config());
    const OptimizerOptions options = GoldenOptimizer(c[section], kind);
    Optimizer<T> optimizer(options, model);
    const json& steps = c[section]["steps"];
    ASSERT_EQ(steps.size(), 2u);
    for (size_t s = 0; s < steps.size(); ++s) {
      const std::string at = absl::StrCat(section, " step ", s + 1);
      absl::StatusOr<BatchResult> result =
          pass.Run(model, batch.X(), batch.Targets());
      ASSERT_TRUE(result.ok()) << result.status();
      ExpectScalarNear(result->loss, steps[s]["loss_before_step"], tol,
                       at + " loss before the step");
      pass.UpdateRunningStatistics(&model);
      optimizer.Step(pass.gradients(), &model);
      const Allowance params = GradientFreeAllowance<T>(kind, options, s + 1);
      // This step's forward saw the parameters after the previous step.
      const Allowance before = GradientFreeAllowance<T>(kind, options, s);
      const Allowance running_mean = [&](size_t l, const std::string&) {
        const double upstream_beta =
            l == 0 ? 0.0
                   : model.layer(static_cast<int>(l))
                             .weight.template cast<double>()
                             .cwiseAbs()
                             .rowwise()
                             .sum()
                             .maxCoeff() *
                         before(l - 1, "beta");
        return model.config().batch_norm_momentum *
               (upstream_beta + before(l, "bias"));
      };
      ExpectParametersMatch(model, steps[s]["layers"], tol, at, params);
      ExpectRunningStatisticsMatch(model, steps[s]["buffers"], tol, at,
                                   running_mean);
    }
  }

  // kGradientFree's allowance after `steps` float32 Adam steps; none for
  // double or SGD (which scales noise by lr, not by 1 / (|g| + eps)).
  template <typename T>
  Allowance GradientFreeAllowance(OptimizerKind kind,
                                  const OptimizerOptions& options,
                                  size_t steps) const {
    if (!std::is_same_v<T, float> || kind != OptimizerKind::kAdam) {
      return kNoAllowance;
    }
    const json& gradients = Case()["train"]["gradients"];
    const double bound = 2 * options.learning_rate * static_cast<double>(steps);
    return [&gradients, bound](size_t l, const std::string& name) {
      const json& g = gradients[l];
      return g.contains(name) && IsGradientFree(g[name]) ? bound : 0.0;
    };
  }
};

constexpr double kDoubleTol = 1e-9;
constexpr double kFloatTol = 1e-4;

TEST_P(GoldenTest, ForwardBackwardDouble) {
  CheckForwardBackward<double>(kDoubleTol);
}
TEST_P(GoldenTest, ForwardBackwardFloat) {
  CheckForwardBackward<float>(kFloatTol);
}
TEST_P(GoldenTest, SgdStepsDouble) {
  CheckOptimizerSteps<double>("sgd", OptimizerKind::kSgd, kDoubleTol);
}
TEST_P(GoldenTest, SgdStepsFloat) {
  CheckOptimizerSteps<float>("sgd", OptimizerKind::kSgd, kFloatTol);
}
TEST_P(GoldenTest, AdamStepsDouble) {
  CheckOptimizerSteps<double>("adam", OptimizerKind::kAdam, kDoubleTol);
}
TEST_P(GoldenTest, AdamStepsFloat) {
  CheckOptimizerSteps<float>("adam", OptimizerKind::kAdam, kFloatTol);
}

TEST(GoldenFileTest, HoldsAllFourteenCases) {
  EXPECT_EQ(GoldenFile()["cases"].size(), 14u);
}

INSTANTIATE_TEST_SUITE_P(AllCases, GoldenTest, ::testing::Range(0, 14),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return CaseName(GoldenFile()["cases"][info.param]);
                         });

}  // namespace
}  // namespace bnmlp
