#include "core/model.h"

#include <cmath>
#include <random>

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
  if (absl::Status s = ValidateModelConfig(config); !s.ok()) return s;
  Model<T> model;
  model.config_ = config;
  const std::vector<int64_t>& sizes = config.layer_sizes;
  const int num_layers = static_cast<int>(sizes.size()) - 1;
  model.layers_.resize(num_layers);
  std::mt19937_64 rng(config.seed);
  for (int l = 0; l < num_layers; ++l) {
    const int64_t in = sizes[l];
    const int64_t out = sizes[l + 1];
    const bool output_layer = l + 1 == num_layers;
    LayerParameters<T>& layer = model.layers_[l];
    layer.weight = HeNormal(out, in, rng).cast<T>();
    if (output_layer || config.normalization != Normalization::kPreActivation) {
      layer.bias = Vector<T>::Zero(out);
    }
    if (!output_layer && config.normalization != Normalization::kNone) {
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
