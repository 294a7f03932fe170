#include "core/training_pass.h"

#include "absl/strings/str_cat.h"
#include "core/activation.h"
#include "core/loss.h"
#include "core/parallel_product.h"

namespace bnmlp {

template <typename T>
TrainingPass<T>::TrainingPass(const ModelConfig& config) : config_(config) {
  const std::vector<int64_t>& sizes = config.layer_sizes;
  const int num_layers = static_cast<int>(sizes.size()) - 1;
  layers_.resize(num_layers);
  grads_.resize(num_layers);
  for (int l = 0; l < num_layers; ++l) {
    const int64_t in = sizes[l];
    const int64_t out = sizes[l + 1];
    const bool hidden = l + 1 < num_layers;
    const bool batch_norm =
        hidden && config.normalization != Normalization::kNone;
    LayerGradients<T>& g = grads_[l];
    g.weight.resize(out, in);
    if (!hidden || config.normalization != Normalization::kPreActivation) {
      g.bias.resize(out);
    }
    if (batch_norm) {
      g.gamma.resize(out);
      g.beta.resize(out);
      layers_[l].batch_norm.Resize(out);
    }
  }
}

template <typename T>
void TrainingPass<T>::Reserve(int64_t batch) {
  if (batch <= capacity_) return;
  const std::vector<int64_t>& sizes = config_.layer_sizes;
  for (size_t l = 0; l < layers_.size(); ++l) {
    const int64_t width = sizes[l + 1];
    const bool hidden = l + 1 < layers_.size();
    LayerWorkspace& w = layers_[l];
    w.out.resize(width, batch);
    w.grad.resize(width, batch);
    if (hidden && config_.normalization != Normalization::kNone) {
      w.z.resize(width, batch);
    }
    if (hidden && config_.normalization == Normalization::kPostActivation) {
      w.normed.resize(width, batch);
    }
  }
  grad_input_.resize(sizes.front(), batch);
  capacity_ = batch;
}

template <typename T>
absl::Status TrainingPass<T>::CheckBatch(const Model<T>& model,
                                         ConstMatrixMap<T> x,
                                         const BatchTargets<T>& targets) const {
  const int64_t n = x.cols();
  if (n < 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a training batch needs at least 2 samples (BatchNorm's batch "
        "variance is undefined for one), got ",
        n));
  }
  if (x.rows() != model.input_size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "x has ", x.rows(), " features; the model takes ", model.input_size()));
  }
  const int64_t outputs = model.output_size();
  if (config_.task == Task::kRegression) {
    if (targets.targets.rows() != outputs || targets.targets.cols() != n) {
      return absl::InvalidArgumentError(
          absl::StrCat("targets must be ", outputs, " x ", n, ", got ",
                       targets.targets.rows(), " x ", targets.targets.cols()));
    }
    return absl::OkStatus();
  }
  if (static_cast<int64_t>(targets.labels.size()) != n) {
    return absl::InvalidArgumentError(
        absl::StrCat("labels has ", targets.labels.size(), " entries; x has ",
                     n, " samples"));
  }
  for (int64_t j = 0; j < n; ++j) {
    if (targets.labels[j] < 0 || targets.labels[j] >= outputs) {
      return absl::InvalidArgumentError(
          absl::StrCat("labels[", j, "] = ", targets.labels[j],
                       " is outside [0, ", outputs, ")"));
    }
  }
  return absl::OkStatus();
}

template <typename T>
ConstMatrixMap<T> TrainingPass<T>::LayerInput(int l,
                                              ConstMatrixMap<T> x) const {
  if (l == 0) return x;
  const Matrix<T>& prev = layers_[l - 1].out;
  return ConstMatrixMap<T>(prev.data(), prev.rows(), batch_);
}

template <typename T>
void TrainingPass<T>::ForwardHidden(int l, const LayerParameters<T>& p,
                                    ConstMatrixMap<T> in) {
  LayerWorkspace& w = layers_[l];
  const Activation g = config_.activation;
  const T eps = static_cast<T>(config_.batch_norm_epsilon);
  MatrixMap<T> out = View(w.out);
  switch (config_.normalization) {
    case Normalization::kPreActivation: {
      MatrixMap<T> z = View(w.z);
      ParallelProduct(z, p.weight, in);
      w.batch_norm.Normalize(z, eps);
      AffineActivation<T>(g, p.gamma.data(), p.beta.data(), AsConst(z), out);
      return;
    }
    case Normalization::kPostActivation: {
      MatrixMap<T> hidden = View(w.z);
      ParallelProduct(hidden, p.weight, in);
      AffineActivation<T>(g, nullptr, p.bias.data(), AsConst(hidden), hidden);
      MatrixMap<T> normed = View(w.normed);
      normed = hidden;
      w.batch_norm.Normalize(normed, eps);
      AffineActivation<T>(Activation::kIdentity, p.gamma.data(), p.beta.data(),
                          AsConst(normed), out);
      return;
    }
    case Normalization::kNone:
      ParallelProduct(out, p.weight, in);
      AffineActivation<T>(g, nullptr, p.bias.data(), AsConst(out), out);
      return;
  }
}

template <typename T>
BatchResult TrainingPass<T>::ForwardOutput(const LayerParameters<T>& p,
                                           ConstMatrixMap<T> in,
                                           const BatchTargets<T>& targets) {
  LayerWorkspace& w = layers_.back();
  MatrixMap<T> out = View(w.out);
  MatrixMap<T> grad = View(w.grad);
  ParallelProduct(out, p.weight, in);
  out.colwise() += p.bias;
  BatchResult result;
  if (config_.task == Task::kClassification) {
    result.loss =
        SoftmaxCrossEntropy<T>(out, targets.labels, &grad, &result.correct);
  } else {
    result.loss = MeanSquaredError<T>(AsConst(out), targets.targets, &grad);
  }
  return result;
}

template <typename T>
void TrainingPass<T>::BackwardLayer(int l, const LayerParameters<T>& p,
                                    ConstMatrixMap<T> in) {
  LayerWorkspace& w = layers_[l];
  LayerGradients<T>& g = grads_[l];
  MatrixMap<T> grad = View(w.grad);  // dL/d(out) -> dL/dz
  const bool hidden = l + 1 < static_cast<int>(layers_.size());
  if (hidden) {
    const Activation act = config_.activation;
    switch (config_.normalization) {
      case Normalization::kPreActivation:
        MultiplyByDerivative<T>(act, AsConst(View(w.out)), grad);
        w.batch_norm.Backward(grad, AsConst(View(w.z)), p.gamma, g.gamma,
                              g.beta);
        break;
      case Normalization::kPostActivation:
        w.batch_norm.Backward(grad, AsConst(View(w.normed)), p.gamma, g.gamma,
                              g.beta);
        MultiplyByDerivative<T>(act, AsConst(View(w.z)), grad);
        break;
      case Normalization::kNone:
        MultiplyByDerivative<T>(act, AsConst(View(w.out)), grad);
        break;
    }
  }
  if (g.bias.size() > 0) g.bias.noalias() = grad.rowwise().sum();
  ParallelProduct(g.weight, grad, in.transpose());
}

template <typename T>
absl::StatusOr<BatchResult> TrainingPass<T>::Run(const Model<T>& model,
                                                 ConstMatrixMap<T> x,
                                                 const BatchTargets<T>& targets,
                                                 bool compute_input_gradient) {
  if (absl::Status s = CheckBatch(model, x, targets); !s.ok()) return s;
  Reserve(x.cols());
  batch_ = x.cols();
  const int num_layers = static_cast<int>(layers_.size());
  for (int l = 0; l + 1 < num_layers; ++l) {
    ForwardHidden(l, model.layer(l), LayerInput(l, x));
  }
  const BatchResult result = ForwardOutput(
      model.layers().back(), LayerInput(num_layers - 1, x), targets);
  for (int l = num_layers - 1; l >= 0; --l) {
    const LayerParameters<T>& p = model.layer(l);
    BackwardLayer(l, p, LayerInput(l, x));
    // dL/d(a_prev) = W^T dL/dz, into the previous layer's gradient buffer.
    if (l > 0) {
      ParallelProduct(View(layers_[l - 1].grad), p.weight.transpose(),
                      View(layers_[l].grad));
    } else if (compute_input_gradient) {
      ParallelProduct(View(grad_input_), p.weight.transpose(),
                      View(layers_[0].grad));
    }
  }
  return result;
}

template <typename T>
void TrainingPass<T>::UpdateRunningStatistics(Model<T>* model) const {
  if (config_.normalization == Normalization::kNone) return;
  const T momentum = static_cast<T>(config_.batch_norm_momentum);
  for (size_t l = 0; l + 1 < layers_.size(); ++l) {
    LayerParameters<T>& p = model->mutable_layer(static_cast<int>(l));
    layers_[l].batch_norm.UpdateRunningStatistics(momentum, p.running_mean,
                                                  p.running_var);
  }
}

template <typename T>
ConstMatrixMap<T> TrainingPass<T>::input_gradient() const {
  return ConstMatrixMap<T>(grad_input_.data(), grad_input_.rows(), batch_);
}

template <typename T>
ConstMatrixMap<T> TrainingPass<T>::outputs() const {
  const Matrix<T>& out = layers_.back().out;
  return ConstMatrixMap<T>(out.data(), out.rows(), batch_);
}

template class TrainingPass<float>;
template class TrainingPass<double>;

}  // namespace bnmlp
