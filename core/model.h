// A BN-MLP's parameters and BatchNorm running statistics.
#ifndef BNMLP_CORE_MODEL_H_
#define BNMLP_CORE_MODEL_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "core/matrix.h"
#include "core/model_config.h"

namespace bnmlp {

// One Linear layer and the BatchNorm that may follow it. Absent parts are
// empty (size 0), as core/layer_layout.h says: pre-activation layers have no
// bias (BatchNorm's beta takes its role); the output layer and
// Normalization::kNone have no BatchNorm.
template <typename T>
struct LayerParameters {
  RowMajorMatrix<T> weight;  // [out, in]
  Vector<T> bias;            // [out] or empty
  Vector<T> gamma;           // [out] or empty
  Vector<T> beta;            // [out] or empty
  Vector<T> running_mean;    // [out] or empty; starts at 0
  Vector<T> running_var;     // [out] or empty; starts at 1

  bool has_bias() const { return bias.size() > 0; }
  bool has_batch_norm() const { return gamma.size() > 0; }
};

// Gradients of the loss, shaped like the LayerParameters they belong to
// (absent parts empty).
template <typename T>
struct LayerGradients {
  RowMajorMatrix<T> weight;
  Vector<T> bias;
  Vector<T> gamma;
  Vector<T> beta;
};

// A value type: copying a Model copies every parameter. Not internally
// synchronized; concurrent const access is safe.
template <typename T>
class Model {
 public:
  // Validates `config` (ValidateModelConfig with the engine's own limits) and
  // initializes: weights He/Kaiming-normal (std sqrt(2 / fan_in)) from
  // config.seed, biases and beta 0, gamma 1, running mean 0, running var 1.
  // The same config gives bit-identical parameters.
  static absl::StatusOr<Model> Create(const ModelConfig& config);

  const ModelConfig& config() const { return config_; }
  // Linear layers: layer_sizes.size() - 1; the last is the output layer.
  int num_layers() const { return static_cast<int>(layers_.size()); }
  int64_t input_size() const { return config_.layer_sizes.front(); }
  int64_t output_size() const { return config_.layer_sizes.back(); }
  int64_t parameter_count() const;

  const std::vector<LayerParameters<T>>& layers() const { return layers_; }
  const LayerParameters<T>& layer(int i) const { return layers_[i]; }
  LayerParameters<T>& mutable_layer(int i) { return layers_[i]; }

  // The same model in another scalar type (float for serving, double for
  // gradient checks).
  template <typename U>
  Model<U> Cast() const;

 private:
  template <typename U>
  friend class Model;
  Model() = default;

  ModelConfig config_;
  std::vector<LayerParameters<T>> layers_;
};

template <typename T>
template <typename U>
Model<U> Model<T>::Cast() const {
  Model<U> out;
  out.config_ = config_;
  out.layers_.resize(layers_.size());
  for (size_t i = 0; i < layers_.size(); ++i) {
    const LayerParameters<T>& src = layers_[i];
    LayerParameters<U>& dst = out.layers_[i];
    dst.weight = src.weight.template cast<U>();
    dst.bias = src.bias.template cast<U>();
    dst.gamma = src.gamma.template cast<U>();
    dst.beta = src.beta.template cast<U>();
    dst.running_mean = src.running_mean.template cast<U>();
    dst.running_var = src.running_var.template cast<U>();
  }
  return out;
}

extern template class Model<float>;
extern template class Model<double>;

}  // namespace bnmlp

#endif  // BNMLP_CORE_MODEL_H_
