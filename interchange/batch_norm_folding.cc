#include "interchange/batch_norm_folding.h"

namespace bnmlp {
namespace {

// BatchNorm in evaluation mode as y = scale x + shift, in double.
struct Affine {
  Vector<double> scale;
  Vector<double> shift;
};

Affine EvalAffine(const LayerParameters<float>& p, float eps) {
  const Vector<double> var = p.running_var.cast<double>();
  Affine affine;
  affine.scale = p.gamma.cast<double>().array() /
                 (var.array() + static_cast<double>(eps)).sqrt();
  affine.shift = p.beta.cast<double>().array() -
                 affine.scale.array() * p.running_mean.cast<double>().array();
  return affine;
}

}  // namespace

std::vector<FoldedLayer> FoldBatchNorm(const Model<float>& model) {
  const ModelConfig& config = model.config();
  const float eps = static_cast<float>(config.batch_norm_epsilon);
  std::vector<FoldedLayer> folded;
  // Post-activation: the previous layer's BatchNorm, applied to this
  // layer's input.
  Affine pending;
  for (int l = 0; l < model.num_layers(); ++l) {
    const LayerParameters<float>& p = model.layer(l);
    const bool output = l + 1 == model.num_layers();
    RowMajorMatrix<double> w = p.weight.cast<double>();
    Vector<double> b = p.has_bias() ? Vector<double>(p.bias.cast<double>())
                                    : Vector<double>::Zero(w.rows());
    if (pending.scale.size() > 0) {
      b += w * pending.shift;
      w = w * pending.scale.asDiagonal();
      pending = Affine();
    }
    if (!output && p.has_batch_norm()) {
      Affine bn = EvalAffine(p, eps);
      if (config.normalization == Normalization::kPreActivation) {
        w = bn.scale.asDiagonal() * w;
        b = bn.scale.cwiseProduct(b) + bn.shift;
      } else {
        pending = std::move(bn);
      }
    }
    folded.push_back({w.cast<float>(), b.cast<float>(),
                      output ? Activation::kIdentity : config.activation});
  }
  return folded;
}

}  // namespace bnmlp
