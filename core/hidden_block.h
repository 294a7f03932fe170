// A hidden layer of a BN-MLP as one object per normalization mode: its
// training-mode forward and backward passes and its evaluation-mode form.
// HiddenBlock::Create is the one place the engine chooses by
// Normalization; the training pass and the inference model only call
// blocks.
#ifndef BNMLP_CORE_HIDDEN_BLOCK_H_
#define BNMLP_CORE_HIDDEN_BLOCK_H_

#include <cstdint>
#include <memory>

#include "core/compute_pool.h"
#include "core/layer_layout.h"
#include "core/matrix.h"
#include "core/model.h"
#include "core/model_config.h"

namespace bnmlp {

// A hidden layer in evaluation mode (BatchNorm with its running
// statistics), as per-unit affine maps around the activation g:
//   y = out_scale .* g(in_scale .* z + in_shift) + out_shift,  z = W x.
// An empty vector stands for the identity (scale 1, shift 0). In double,
// whatever the model's scalar type, so that folding loses nothing.
struct EvalAffine {
  Vector<double> in_scale;
  Vector<double> in_shift;
  Vector<double> out_scale;
  Vector<double> out_shift;
};

// Training workspaces (output, gradient and the mode's caches) grow to the
// largest batch seen and are reused. Not thread-safe: one per TrainingPass.
// Eval() is const and may be called from any thread.
template <typename T>
class HiddenBlock {
 public:
  // The block for hidden layer `layer` of `config` (which must satisfy
  // ValidateModelConfig; `layer` must not be the output layer).
  static std::unique_ptr<HiddenBlock> Create(const ModelConfig& config,
                                             int layer);

  virtual ~HiddenBlock() = default;
  HiddenBlock(const HiddenBlock&) = delete;
  HiddenBlock& operator=(const HiddenBlock&) = delete;

  const LayerLayout& layout() const { return layout_; }

  // Grows the workspaces to `capacity` samples (allocates only when it
  // grows).
  void Reserve(int64_t capacity);

  // Training mode: output() = the layer applied to `in` (inputs x N,
  // N >= 2, N <= the reserved capacity), BatchNorm normalizing with the
  // batch statistics.
  virtual void Forward(const LayerParameters<T>& p, ConstMatrixMap<T> in,
                       ComputePool& pool) = 0;

  // After Forward: on entry gradient() holds dL/d(output), on return
  // dL/dz for z = W in (what the weight and bias gradients and the input
  // gradient are computed from). Writes g->gamma and g->beta when the layer
  // has BatchNorm.
  virtual void Backward(const LayerParameters<T>& p, LayerGradients<T>* g) = 0;

  // Applies the last Forward's batch statistics to p's running mean and
  // variance (PyTorch's BatchNorm1d update); nothing without BatchNorm.
  virtual void UpdateRunningStatistics(T momentum,
                                       LayerParameters<T>* p) const = 0;

  // The evaluation-mode form of this layer with parameters `p`.
  virtual EvalAffine Eval(const LayerParameters<T>& p) const = 0;

  // (outputs x N) of the last Forward.
  ConstMatrixMap<T> output() const {
    return ConstMatrixMap<T>(out_.data(), out_.rows(), batch_);
  }
  // (outputs x N): see Backward.
  MatrixMap<T> gradient() { return View(grad_); }

 protected:
  HiddenBlock(const ModelConfig& config, int layer);

  // The mode's own caches, (outputs x capacity).
  virtual void ReserveCaches(int64_t capacity) = 0;
  MatrixMap<T> View(Matrix<T>& buffer) const {
    return MatrixMap<T>(buffer.data(), buffer.rows(), batch_);
  }

  const LayerLayout layout_;
  const Activation activation_;
  const double epsilon_;  // BatchNorm's

  int64_t batch_ = 0;  // columns in use: the last Forward's N
  Matrix<T> out_;
  Matrix<T> grad_;

 private:
  int64_t capacity_ = 0;
};

extern template class HiddenBlock<float>;
extern template class HiddenBlock<double>;

}  // namespace bnmlp

#endif  // BNMLP_CORE_HIDDEN_BLOCK_H_
