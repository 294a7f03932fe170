#include "core/layer_layout.h"

#include <tuple>

#include "core/model.h"
#include "core/training_pass.h"
#include "gtest/gtest.h"

namespace bnmlp {
namespace {

TEST(LayerLayoutTest, HiddenAndOutputLayersPerNormalization) {
  const std::vector<int64_t> sizes = {7, 5, 3, 2};
  EXPECT_EQ(NumLayers(sizes), 3);
  EXPECT_EQ(NumLayers({4}), 0);
  EXPECT_EQ(NumLayers({}), 0);
  struct Case {
    Normalization normalization;
    bool hidden_bias;
    bool hidden_batch_norm;
  };
  for (const Case& c : {Case{Normalization::kPreActivation, false, true},
                        Case{Normalization::kPostActivation, true, true},
                        Case{Normalization::kNone, true, false}}) {
    const std::string mode(NormalizationName(c.normalization));
    for (int l = 0; l < 2; ++l) {
      const LayerLayout hidden = LayoutOf(sizes, c.normalization, l);
      EXPECT_EQ(hidden.inputs, sizes[l]) << mode;
      EXPECT_EQ(hidden.outputs, sizes[l + 1]) << mode;
      EXPECT_FALSE(hidden.output_layer) << mode;
      EXPECT_EQ(hidden.has_bias, c.hidden_bias) << mode;
      EXPECT_EQ(hidden.has_batch_norm, c.hidden_batch_norm) << mode;
    }
    // The output layer: always a bias, never BatchNorm.
    const LayerLayout out = LayoutOf(sizes, c.normalization, 2);
    EXPECT_TRUE(out.output_layer) << mode;
    EXPECT_TRUE(out.has_bias) << mode;
    EXPECT_FALSE(out.has_batch_norm) << mode;
    EXPECT_EQ(out.inputs, 3);
    EXPECT_EQ(out.outputs, 2);
  }
}

// The model's tensors, the training pass's gradients and the parameter
// count all follow the one layout.
TEST(LayerLayoutTest, ModelGradientsAndCountAgreeWithTheLayout) {
  for (Normalization n :
       {Normalization::kPreActivation, Normalization::kPostActivation,
        Normalization::kNone}) {
    ModelConfig config;
    config.layer_sizes = {6, 5, 4, 3};
    config.normalization = n;
    const Model<double> model = *Model<double>::Create(config);
    const TrainingPass<double> pass(config);
    int64_t total = 0;
    for (int l = 0; l < model.num_layers(); ++l) {
      const LayerLayout layout = LayoutOf(config, l);
      const LayerParameters<double>& p = model.layer(l);
      const LayerGradients<double>& g = pass.gradients()[l];
      const int64_t out = layout.outputs;
      EXPECT_EQ(p.weight.rows(), out);
      EXPECT_EQ(p.weight.cols(), layout.inputs);
      EXPECT_EQ(p.bias.size(), layout.has_bias ? out : 0);
      EXPECT_EQ(p.gamma.size(), layout.has_batch_norm ? out : 0);
      EXPECT_EQ(p.running_var.size(), layout.has_batch_norm ? out : 0);
      EXPECT_EQ(g.weight.size(), p.weight.size());
      EXPECT_EQ(g.bias.size(), p.bias.size());
      EXPECT_EQ(g.gamma.size(), p.gamma.size());
      EXPECT_EQ(g.beta.size(), p.beta.size());
      total += p.weight.size() + p.bias.size() + p.gamma.size() + p.beta.size();
    }
    EXPECT_EQ(model.parameter_count(), total) << NormalizationName(n);
  }
}

}  // namespace
}  // namespace bnmlp
