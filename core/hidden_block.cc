#include "core/hidden_block.h"

#include "core/activation.h"
#include "core/batch_norm.h"
#include "core/parallel_product.h"

namespace bnmlp {
namespace {

// BatchNorm's evaluation-mode affine map scale x + shift, in double.
template <typename T>
void BatchNormEval(const LayerParameters<T>& p, double eps,
                   Vector<double>& scale, Vector<double>& shift) {
  EvalScaleShift<double>(
      p.gamma.template cast<double>(), p.beta.template cast<double>(),
      p.running_mean.template cast<double>(),
      p.running_var.template cast<double>(), eps, scale, shift);
}

// Linear (no bias) -> BatchNorm -> g. out_ holds g's output; z_ the
// normalized x_hat.
template <typename T>
class PreActivationBlock final : public HiddenBlock<T> {
 public:
  PreActivationBlock(const ModelConfig& config, int layer)
      : HiddenBlock<T>(config, layer) {}

  void Forward(const LayerParameters<T>& p, ConstMatrixMap<T> in,
               ComputePool& pool) override {
    this->batch_ = in.cols();
    MatrixMap<T> z = this->View(z_);
    ParallelProduct(z, p.weight, in, pool);
    batch_norm_.Normalize(z, static_cast<T>(this->epsilon_));
    AffineActivation<T>(this->activation_, p.gamma.data(), p.beta.data(),
                        AsConst(z), this->View(this->out_));
  }

  void Backward(const LayerParameters<T>& p, LayerGradients<T>* g) override {
    MatrixMap<T> grad = this->gradient();
    MultiplyByDerivative<T>(this->activation_, this->output(), grad);
    batch_norm_.Backward(grad, AsConst(this->View(z_)), p.gamma, g->gamma,
                         g->beta);
  }

  void UpdateRunningStatistics(T momentum,
                               LayerParameters<T>* p) const override {
    batch_norm_.UpdateRunningStatistics(momentum, p->running_mean,
                                        p->running_var);
  }

  EvalAffine Eval(const LayerParameters<T>& p) const override {
    EvalAffine e;
    BatchNormEval(p, this->epsilon_, e.in_scale, e.in_shift);
    return e;
  }

 private:
  void ReserveCaches(int64_t capacity) override {
    z_.resize(this->layout_.outputs, capacity);
    batch_norm_.Resize(this->layout_.outputs);
  }

  Matrix<T> z_;
  BatchNormTraining<T> batch_norm_;
};

// Linear (bias) -> g -> BatchNorm. hidden_ holds g's output, normed_ the
// normalized x_hat, out_ gamma x_hat + beta.
template <typename T>
class PostActivationBlock final : public HiddenBlock<T> {
 public:
  PostActivationBlock(const ModelConfig& config, int layer)
      : HiddenBlock<T>(config, layer) {}

  void Forward(const LayerParameters<T>& p, ConstMatrixMap<T> in,
               ComputePool& pool) override {
    this->batch_ = in.cols();
    MatrixMap<T> hidden = this->View(hidden_);
    ParallelProduct(
        hidden, p.weight, in, pool,
        BiasActivationEpilogue(hidden, this->activation_, p.bias.data()));
    MatrixMap<T> normed = this->View(normed_);
    normed = hidden;
    batch_norm_.Normalize(normed, static_cast<T>(this->epsilon_));
    AffineActivation<T>(Activation::kIdentity, p.gamma.data(), p.beta.data(),
                        AsConst(normed), this->View(this->out_));
  }

  void Backward(const LayerParameters<T>& p, LayerGradients<T>* g) override {
    MatrixMap<T> grad = this->gradient();
    batch_norm_.Backward(grad, AsConst(this->View(normed_)), p.gamma, g->gamma,
                         g->beta);
    MultiplyByDerivative<T>(this->activation_, AsConst(this->View(hidden_)),
                            grad);
  }

  void UpdateRunningStatistics(T momentum,
                               LayerParameters<T>* p) const override {
    batch_norm_.UpdateRunningStatistics(momentum, p->running_mean,
                                        p->running_var);
  }

  EvalAffine Eval(const LayerParameters<T>& p) const override {
    EvalAffine e;
    e.in_shift = p.bias.template cast<double>();
    BatchNormEval(p, this->epsilon_, e.out_scale, e.out_shift);
    return e;
  }

 private:
  void ReserveCaches(int64_t capacity) override {
    hidden_.resize(this->layout_.outputs, capacity);
    normed_.resize(this->layout_.outputs, capacity);
    batch_norm_.Resize(this->layout_.outputs);
  }

  Matrix<T> hidden_;
  Matrix<T> normed_;
  BatchNormTraining<T> batch_norm_;
};

// Linear (bias) -> g, no BatchNorm: a plain MLP layer.
template <typename T>
class PlainBlock final : public HiddenBlock<T> {
 public:
  PlainBlock(const ModelConfig& config, int layer)
      : HiddenBlock<T>(config, layer) {}

  void Forward(const LayerParameters<T>& p, ConstMatrixMap<T> in,
               ComputePool& pool) override {
    this->batch_ = in.cols();
    MatrixMap<T> out = this->View(this->out_);
    ParallelProduct(
        out, p.weight, in, pool,
        BiasActivationEpilogue(out, this->activation_, p.bias.data()));
  }

  void Backward(const LayerParameters<T>& /*p*/,
                LayerGradients<T>* /*g*/) override {
    MultiplyByDerivative<T>(this->activation_, this->output(),
                            this->gradient());
  }

  void UpdateRunningStatistics(T /*momentum*/,
                               LayerParameters<T>* /*p*/) const override {}

  EvalAffine Eval(const LayerParameters<T>& p) const override {
    EvalAffine e;
    e.in_shift = p.bias.template cast<double>();
    return e;
  }

 private:
  void ReserveCaches(int64_t /*capacity*/) override {}
};

}  // namespace

template <typename T>
std::unique_ptr<HiddenBlock<T>> HiddenBlock<T>::Create(
    const ModelConfig& config, int layer) {
  switch (config.normalization) {
    case Normalization::kPreActivation:
      return std::unique_ptr<HiddenBlock<T>>(
          new PreActivationBlock<T>(config, layer));
    case Normalization::kPostActivation:
      return std::unique_ptr<HiddenBlock<T>>(
          new PostActivationBlock<T>(config, layer));
    case Normalization::kNone:
      break;
  }
  return std::unique_ptr<HiddenBlock<T>>(new PlainBlock<T>(config, layer));
}

template <typename T>
HiddenBlock<T>::HiddenBlock(const ModelConfig& config, int layer)
    : layout_(LayoutOf(config, layer)),
      activation_(config.activation),
      epsilon_(config.batch_norm_epsilon) {}

template <typename T>
void HiddenBlock<T>::Reserve(int64_t capacity) {
  if (capacity <= capacity_) return;
  out_.resize(layout_.outputs, capacity);
  grad_.resize(layout_.outputs, capacity);
  ReserveCaches(capacity);
  capacity_ = capacity;
}

template class HiddenBlock<float>;
template class HiddenBlock<double>;

}  // namespace bnmlp
