#include "core/predict.h"

#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "core/activation.h"
#include "core/hidden_block.h"
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

// z = the hidden layer's evaluation form applied in place to z = W a_prev:
// out_scale g(in_scale z + in_shift) + out_shift.
template <typename T>
void HiddenLayerEval(Activation g, const EvalAffine& e, MatrixMap<T> z) {
  const Vector<T> in_scale = e.in_scale.cast<T>();
  const Vector<T> in_shift = e.in_shift.cast<T>();
  AffineActivation<T>(g, in_scale.size() > 0 ? in_scale.data() : nullptr,
                      in_shift.size() > 0 ? in_shift.data() : nullptr,
                      AsConst(z), z);
  if (e.out_scale.size() == 0) return;
  const Vector<T> out_scale = e.out_scale.cast<T>();
  const Vector<T> out_shift = e.out_shift.cast<T>();
  AffineActivation<T>(Activation::kIdentity, out_scale.data(), out_shift.data(),
                      AsConst(z), z);
}

}  // namespace

template <typename T>
absl::Status PredictLogits(const Model<T>& model, ConstMatrixMap<T> x,
                           MatrixMap<T> logits) {
  BNMLP_RETURN_IF_ERROR(CheckShapes(model, x, logits));
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
    const std::unique_ptr<HiddenBlock<T>> block =
        HiddenBlock<T>::Create(model.config(), l);
    HiddenLayerEval(model.config().activation, block->Eval(p), z);
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
  BNMLP_RETURN_IF_ERROR(PredictLogits(model, x, outputs));
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
