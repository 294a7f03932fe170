#include "core/predict.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/activation.h"
#include "core/batch_norm.h"
#include "core/loss.h"
#include "core/parallel_product.h"

namespace bnmlp {
namespace {

template <typename T>
absl::Status CheckShapes(const Model<T>& model, ConstMatrixMap<T> x,
                         MatrixMap<T> outputs) {
  if (x.rows() != model.input_size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "x has ", x.rows(), " features per sample; the model takes ",
        model.input_size()));
  }
  if (outputs.rows() != model.output_size() || outputs.cols() != x.cols()) {
    return absl::InvalidArgumentError(
        absl::StrCat("outputs must be ", model.output_size(), " x ", x.cols(),
                     ", got ", outputs.rows(), " x ", outputs.cols()));
  }
  return absl::OkStatus();
}

// One hidden layer in evaluation mode, in place on z = W a_prev.
template <typename T>
void HiddenLayerEval(const ModelConfig& config, const LayerParameters<T>& p,
                     MatrixMap<T> z) {
  const Activation g = config.activation;
  const T eps = static_cast<T>(config.batch_norm_epsilon);
  Vector<T> scale, shift;
  switch (config.normalization) {
    case Normalization::kPreActivation:
      EvalScaleShift(p.gamma, p.beta, p.running_mean, p.running_var, eps, scale,
                     shift);
      AffineActivation<T>(g, scale.data(), shift.data(), AsConst(z), z);
      return;
    case Normalization::kPostActivation:
      EvalScaleShift(p.gamma, p.beta, p.running_mean, p.running_var, eps, scale,
                     shift);
      AffineActivation<T>(g, nullptr, p.bias.data(), AsConst(z), z);
      AffineActivation<T>(Activation::kIdentity, scale.data(), shift.data(),
                          AsConst(z), z);
      return;
    case Normalization::kNone:
      AffineActivation<T>(g, nullptr, p.bias.data(), AsConst(z), z);
      return;
  }
}

}  // namespace

template <typename T>
absl::Status PredictLogits(const Model<T>& model, ConstMatrixMap<T> x,
                           MatrixMap<T> logits) {
  if (absl::Status s = CheckShapes(model, x, logits); !s.ok()) return s;
  const Eigen::Index n = x.cols();
  if (n == 0) return absl::OkStatus();
  Eigen::Index widest = 0;
  for (int l = 0; l + 1 < model.num_layers(); ++l) {
    widest = std::max(widest, model.layer(l).weight.rows());
  }
  // Hidden activations ping-pong between two buffers.
  Matrix<T> buffers[2] = {Matrix<T>(widest, n), Matrix<T>(widest, n)};
  const T* in_data = x.data();
  Eigen::Index in_rows = x.rows();
  for (int l = 0; l + 1 < model.num_layers(); ++l) {
    const LayerParameters<T>& p = model.layer(l);
    MatrixMap<T> z(buffers[l % 2].data(), p.weight.rows(), n);
    ParallelProduct(z, p.weight, ConstMatrixMap<T>(in_data, in_rows, n));
    HiddenLayerEval(model.config(), p, z);
    in_data = z.data();
    in_rows = z.rows();
  }
  const LayerParameters<T>& out = model.layers().back();
  ParallelProduct(logits, out.weight, ConstMatrixMap<T>(in_data, in_rows, n));
  logits.colwise() += out.bias;
  return absl::OkStatus();
}

template <typename T>
absl::Status Predict(const Model<T>& model, ConstMatrixMap<T> x,
                     MatrixMap<T> outputs) {
  if (absl::Status s = PredictLogits(model, x, outputs); !s.ok()) return s;
  if (model.config().task == Task::kClassification) Softmax(outputs);
  return absl::OkStatus();
}

template <typename T>
void ArgmaxPerColumn(ConstMatrixMap<T> outputs, absl::Span<int32_t> classes) {
  for (Eigen::Index j = 0; j < outputs.cols(); ++j) {
    Eigen::Index best = 0;
    outputs.col(j).maxCoeff(&best);
    classes[j] = static_cast<int32_t>(best);
  }
}

#define BNMLP_INSTANTIATE(T)                                                 \
  template absl::Status Predict<T>(const Model<T>&, ConstMatrixMap<T>,       \
                                   MatrixMap<T>);                            \
  template absl::Status PredictLogits<T>(const Model<T>&, ConstMatrixMap<T>, \
                                         MatrixMap<T>);                      \
  template void ArgmaxPerColumn<T>(ConstMatrixMap<T>, absl::Span<int32_t>);
BNMLP_INSTANTIATE(float)
BNMLP_INSTANTIATE(double)
#undef BNMLP_INSTANTIATE

}  // namespace bnmlp
