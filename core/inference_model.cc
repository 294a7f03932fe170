#include "core/inference_model.h"

#include <algorithm>
#include <memory>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "core/activation.h"
#include "core/blas_kernels.h"
#include "core/hidden_block.h"
#include "core/layer_layout.h"
#include "core/loss.h"
#include "core/parallel_product.h"

namespace bnmlp {
namespace {

// A pool of one thread (no workers): its products run on the caller.
ComputePool& CallingThreadPool() {
  static ComputePool pool(1);
  return pool;
}

// One layer's folded weight and bias, in double while folding.
struct Fold {
  RowMajorMatrix<double> weight;
  Vector<double> bias;
};

// Folds layer `p` (evaluation form `e`) after a previous layer whose output
// still owes the per-unit map x = carry_scale a + carry_shift (empty: none):
//   W x = (W diag(carry_scale)) a + W carry_shift,
//   y = g(in_scale (W x) + in_shift)  ->  W' = diag(in_scale) W ..., b' = ...
template <typename T>
Fold FoldLayer(const LayerParameters<T>& p, const EvalAffine& e,
               const Vector<double>& carry_scale,
               const Vector<double>& carry_shift) {
  Fold f;
  f.weight = p.weight.template cast<double>();
  f.bias = Vector<double>::Zero(f.weight.rows());
  if (carry_shift.size() > 0) f.bias.noalias() += f.weight * carry_shift;
  // Scaled in place (a diagonal product would evaluate into a temporary
  // as large as the weight, in double).
  if (carry_scale.size() > 0) {
    f.weight.array().rowwise() *= carry_scale.array().transpose();
  }
  if (e.in_scale.size() > 0) {
    f.weight.array().colwise() *= e.in_scale.array();
    f.bias.array() *= e.in_scale.array();
  }
  if (e.in_shift.size() > 0) f.bias += e.in_shift;
  return f;
}

template <typename T>
absl::Status CheckShapes(const InferenceModel<T>& model,
                         const PredictInput<T>& input,
                         const MatrixMap<T>& outputs,
                         const PredictOptions& options) {
  if (input.x().rows() != model.input_size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "x has ", input.x().rows(), " features per sample; the model takes ",
        model.input_size()));
  }
  if (outputs.rows() != model.output_size() ||
      outputs.cols() != input.samples()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "outputs must be ", model.output_size(), " x ", input.samples(),
        ", got ", outputs.rows(), " x ", outputs.cols()));
  }
  if (options.max_chunk_rows < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "max_chunk_rows must be at least 1, got ", options.max_chunk_rows));
  }
  return absl::OkStatus();
}

}  // namespace

template <typename T>
InferenceModel<T> InferenceModel<T>::FromModel(const Model<T>& model,
                                               ComputePool& pool) {
  const ModelConfig& config = model.config();
  InferenceModel<T> m(config, pool);
  Vector<double> carry_scale, carry_shift;
  for (int l = 0; l < model.num_layers(); ++l) {
    const LayerParameters<T>& p = model.layer(l);
    const LayerLayout layout = LayoutOf(config, l);
    EvalAffine e;
    if (layout.output_layer) {
      e.in_shift = p.bias.template cast<double>();
    } else {
      e = HiddenBlock<T>::Create(config, l)->Eval(p);
      m.widest_hidden_ = std::max(m.widest_hidden_, layout.outputs);
    }
    const Fold f = FoldLayer(p, e, carry_scale, carry_shift);
    m.layers_.push_back(
        Layer{f.weight.template cast<T>(), f.bias.template cast<T>(),
              layout.output_layer ? Activation::kIdentity : config.activation,
              NarrowProductRule{}});
    carry_scale = e.out_scale;
    carry_shift = e.out_shift;
  }
  // Panels where the BLAS's small-matrix kernels take them, else the
  // skinny kernel (float: the rule is sgemm's; double products stay
  // whole). A rule of the shapes, so every process computes the same bits.
  if constexpr (std::is_same_v<T, float>) {
    for (Layer& layer : m.layers_) {
      layer.narrow.panel_cols =
          SmallKernelPanelCols(layer.weight.rows(), layer.weight.cols());
      layer.narrow.skinny = layer.narrow.panel_cols == 0;
    }
  }
  return m;
}

template <typename T>
bool InferenceModel<T>::UsesComputePool(int64_t samples,
                                        int64_t max_chunk_rows) const {
  // The first chunk is the largest: min(samples, max_chunk_rows) columns.
  const int64_t cols = std::min(samples, std::max<int64_t>(max_chunk_rows, 1));
  for (const Layer& layer : layers_) {
    const ProductPlan plan =
        PlanProduct(layer.weight.rows(), cols, layer.weight.cols(),
                    /*dst_row_major=*/false, pool_->threads());
    if (plan.chunks > 1) return true;
  }
  return false;
}

template <typename T>
int64_t InferenceModel<T>::WorkspaceBytes(int64_t chunk_rows) const {
  return 2 * widest_hidden_ * chunk_rows * static_cast<int64_t>(sizeof(T));
}

template <typename T>
int64_t InferenceModel<T>::ChunkRowsWithin(int64_t max_workspace_bytes) const {
  const int64_t per_row = WorkspaceBytes(1);
  if (per_row == 0) return kDefaultMaxChunkRows;  // no hidden layer
  return std::clamp<int64_t>(max_workspace_bytes / per_row, 1,
                             kDefaultMaxChunkRows);
}

template <typename T>
MatrixMap<T> PredictWorkspace<T>::Buffer(int which, Eigen::Index rows,
                                         Eigen::Index cols) {
  Vector<T>& buffer = buffers_[which];
  if (buffer.size() < rows * cols) buffer.resize(rows * cols);
  return MatrixMap<T>(buffer.data(), rows, cols);
}

template <typename T>
absl::Status Predict(const InferenceModel<T>& model,
                     const PredictInput<T>& input, MatrixMap<T> outputs,
                     PredictWorkspace<T>& workspace,
                     absl::FunctionRef<bool()> should_stop,
                     const PredictOptions& options) {
  BNMLP_RETURN_IF_ERROR(CheckShapes(model, input, outputs, options));
  const Eigen::Index n = input.samples();
  const Eigen::Index chunk = std::min<Eigen::Index>(n, options.max_chunk_rows);
  // Hidden activations ping-pong between the workspace's two buffers.
  T* const buffers[2] = {
      workspace.Buffer(0, model.widest_hidden(), chunk).data(),
      workspace.Buffer(1, model.widest_hidden(), chunk).data()};
  const int last = model.num_layers() - 1;
  const bool softmax =
      model.config().task == Task::kClassification && !options.logits;
  for (Eigen::Index begin = 0; begin < n; begin += chunk) {
    const Eigen::Index cols = std::min(chunk, n - begin);
    const T* in = input.x().data() + begin * model.input_size();
    Eigen::Index in_rows = model.input_size();
    for (int l = 0; l <= last; ++l) {
      if (should_stop()) {
        return absl::CancelledError(
            absl::StrCat("Predict stopped before layer ", l + 1, " of ",
                         last + 1, " at sample ", begin, " of ", n));
      }
      const RowMajorMatrix<T>& w = model.weight(l);
      MatrixMap<T> out(
          l == last ? outputs.data() + begin * outputs.rows() : buffers[l % 2],
          w.rows(), cols);
      ParallelProduct(
          out, w, ConstMatrixMap<T>(in, in_rows, cols),
          options.calling_thread_only ? CallingThreadPool() : model.pool(),
          BiasActivationEpilogue(out, model.activation(l),
                                 model.bias(l).data()),
          model.narrow_product(l));
      in = out.data();
      in_rows = out.rows();
    }
    if (softmax) {
      Softmax(MatrixMap<T>(outputs.data() + begin * outputs.rows(),
                           outputs.rows(), cols));
    }
  }
  return absl::OkStatus();
}

template class InferenceModel<float>;
template class InferenceModel<double>;
template class PredictWorkspace<float>;
template class PredictWorkspace<double>;
template absl::Status Predict<float>(const InferenceModel<float>&,
                                     const PredictInput<float>&,
                                     MatrixMap<float>, PredictWorkspace<float>&,
                                     absl::FunctionRef<bool()>,
                                     const PredictOptions&);
template absl::Status Predict<double>(const InferenceModel<double>&,
                                      const PredictInput<double>&,
                                      MatrixMap<double>,
                                      PredictWorkspace<double>&,
                                      absl::FunctionRef<bool()>,
                                      const PredictOptions&);

}  // namespace bnmlp
