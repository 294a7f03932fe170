#include "core/training_pass.h"

#include <cassert>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "core/layer_layout.h"
#include "core/loss.h"
#include "core/parallel_product.h"

namespace bnmlp {

template <typename T>
TrainingPass<T>::TrainingPass(const ModelConfig& config, ComputePool& pool)
    : config_(config), pool_(pool) {
  const int num_layers = NumLayers(config.layer_sizes);
  grads_.resize(num_layers);
  for (int l = 0; l < num_layers; ++l) {
    const LayerLayout layout = LayoutOf(config, l);
    LayerGradients<T>& g = grads_[l];
    g.weight.resize(layout.outputs, layout.inputs);
    if (layout.has_bias) g.bias.resize(layout.outputs);
    if (layout.has_batch_norm) {
      g.gamma.resize(layout.outputs);
      g.beta.resize(layout.outputs);
    }
    if (!layout.output_layer) {
      hidden_.push_back(HiddenBlock<T>::Create(config, l));
    }
  }
}

template <typename T>
void TrainingPass<T>::Reserve(int64_t batch) {
  if (batch <= capacity_) return;
  for (std::unique_ptr<HiddenBlock<T>>& block : hidden_) {
    block->Reserve(batch);
  }
  out_.resize(config_.layer_sizes.back(), batch);
  out_grad_.resize(config_.layer_sizes.back(), batch);
  grad_input_.resize(config_.layer_sizes.front(), batch);
  capacity_ = batch;
}

template <typename T>
absl::Status TrainingPass<T>::CheckShapes(
    ConstMatrixMap<T> x, const BatchTargets<T>& targets) const {
  const int64_t n = x.cols();
  if (n < 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a training batch needs at least 2 samples (BatchNorm's batch "
        "variance is undefined for one), got ",
        n));
  }
  const int64_t inputs = config_.layer_sizes.front();
  if (x.rows() != inputs) {
    return absl::InvalidArgumentError(absl::StrCat(
        "x has ", x.rows(), " features; the model takes ", inputs));
  }
  const int64_t outputs = config_.layer_sizes.back();
  if (config_.task == Task::kRegression) {
    if (targets.targets.rows() != outputs || targets.targets.cols() != n) {
      return absl::InvalidArgumentError(
          absl::StrCat("targets must be ", outputs, " x ", n, ", got ",
                       targets.targets.rows(), " x ", targets.targets.cols()));
    }
  } else if (static_cast<int64_t>(targets.labels.size()) != n) {
    return absl::InvalidArgumentError(
        absl::StrCat("labels has ", targets.labels.size(), " entries; x has ",
                     n, " samples"));
  }
#ifndef NDEBUG
  for (int32_t label : targets.labels) assert(label >= 0 && label < outputs);
#endif
  return absl::OkStatus();
}

template <typename T>
ConstMatrixMap<T> TrainingPass<T>::LayerInput(int l,
                                              ConstMatrixMap<T> x) const {
  return l == 0 ? x : hidden_[l - 1]->output();
}

template <typename T>
MatrixMap<T> TrainingPass<T>::LayerGradient(int l) {
  return l < static_cast<int>(hidden_.size()) ? hidden_[l]->gradient()
                                              : View(out_grad_);
}

template <typename T>
BatchResult TrainingPass<T>::ForwardOutput(const LayerParameters<T>& p,
                                           ConstMatrixMap<T> in,
                                           const BatchTargets<T>& targets) {
  MatrixMap<T> out = View(out_);
  MatrixMap<T> grad = View(out_grad_);
  ParallelProduct(out, p.weight, in, pool_);
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
  LayerGradients<T>& g = grads_[l];
  if (l < static_cast<int>(hidden_.size())) hidden_[l]->Backward(p, &g);
  MatrixMap<T> grad = LayerGradient(l);  // now dL/dz
  if (g.bias.size() > 0) g.bias.noalias() = grad.rowwise().sum();
  ParallelProduct(g.weight, grad, in.transpose(), pool_);
}

template <typename T>
absl::StatusOr<BatchResult> TrainingPass<T>::Run(const Model<T>& model,
                                                 ConstMatrixMap<T> x,
                                                 const BatchTargets<T>& targets,
                                                 bool compute_input_gradient) {
  BNMLP_RETURN_IF_ERROR(CheckShapes(x, targets));
  Reserve(x.cols());
  batch_ = x.cols();
  const int num_layers = static_cast<int>(grads_.size());
  for (int l = 0; l + 1 < num_layers; ++l) {
    hidden_[l]->Forward(model.layer(l), LayerInput(l, x), pool_);
  }
  const BatchResult result = ForwardOutput(
      model.layers().back(), LayerInput(num_layers - 1, x), targets);
  for (int l = num_layers - 1; l >= 0; --l) {
    const LayerParameters<T>& p = model.layer(l);
    BackwardLayer(l, p, LayerInput(l, x));
    // dL/d(a_prev) = W^T dL/dz, into the previous layer's gradient buffer.
    if (l > 0) {
      ParallelProduct(LayerGradient(l - 1), p.weight.transpose(),
                      LayerGradient(l), pool_);
    } else if (compute_input_gradient) {
      ParallelProduct(View(grad_input_), p.weight.transpose(), LayerGradient(0),
                      pool_);
    }
  }
  return result;
}

template <typename T>
void TrainingPass<T>::UpdateRunningStatistics(Model<T>* model) const {
  const T momentum = static_cast<T>(config_.batch_norm_momentum);
  for (size_t l = 0; l < hidden_.size(); ++l) {
    hidden_[l]->UpdateRunningStatistics(
        momentum, &model->mutable_layer(static_cast<int>(l)));
  }
}

template <typename T>
ConstMatrixMap<T> TrainingPass<T>::input_gradient() const {
  return ConstMatrixMap<T>(grad_input_.data(), grad_input_.rows(), batch_);
}

template <typename T>
ConstMatrixMap<T> TrainingPass<T>::outputs() const {
  return ConstMatrixMap<T>(out_.data(), out_.rows(), batch_);
}

template class TrainingPass<float>;
template class TrainingPass<double>;

}  // namespace bnmlp
