#include "core/model.h"

#include <cmath>
#include <random>

#include "common/status_macros.h"
#include "core/layer_layout.h"

namespace bnmlp {
namespace {

// He (Kaiming normal) initialization in double, so a float model and a
// double model from the same config hold the same values up to rounding.
RowMajorMatrix<double> HeNormal(int64_t out, int64_t in, std::mt19937_64& rng) {
  std::normal_distribution<double> normal(0.0, std::sqrt(2.0 / in));
  RowMajorMatrix<double> w(out, in);
  for (Eigen::Index i = 0; i < w.size(); ++i) w.data()[i] = normal(rng);
  return w;
}

}  // namespace

template <typename T>
absl::StatusOr<Model<T>> Model<T>::Create(const ModelConfig& config) {
  BNMLP_RETURN_IF_ERROR(ValidateModelConfig(config));
  Model<T> model;
  model.config_ = config;
  model.layers_.resize(NumLayers(config.layer_sizes));
  std::mt19937_64 rng(config.seed);
  for (int l = 0; l < model.num_layers(); ++l) {
    const LayerLayout layout = LayoutOf(config, l);
    const int64_t out = layout.outputs;
    LayerParameters<T>& layer = model.layers_[l];
    layer.weight = HeNormal(out, layout.inputs, rng).cast<T>();
    if (layout.has_bias) layer.bias = Vector<T>::Zero(out);
    if (layout.has_batch_norm) {
      layer.gamma = Vector<T>::Ones(out);
      layer.beta = Vector<T>::Zero(out);
      layer.running_mean = Vector<T>::Zero(out);
      layer.running_var = Vector<T>::Ones(out);
    }
  }
  return model;
}

template <typename T>
int64_t Model<T>::parameter_count() const {
  return CountParameters(config_.layer_sizes, config_.normalization);
}

template class Model<float>;
template class Model<double>;

}  // namespace bnmlp
