#include "core/evaluate.h"

#include <algorithm>

#include "common/status_macros.h"
#include "core/loss.h"

namespace bnmlp {
namespace {
// Samples per Predict call: bounds the logits' memory on large sets.
constexpr int64_t kChunk = 1024;
}  // namespace

template <typename T>
absl::StatusOr<Evaluation> Evaluate(const Model<T>& model,
                                    const Dataset<T>& data) {
  BNMLP_ASSIGN_OR_RETURN(const ValidatedDataset<T> validated,
                         ValidateDataset(model.config(), data));
  PredictWorkspace<T> workspace;
  return Evaluate(InferenceModel<T>::FromModel(model), validated, workspace);
}

template <typename T>
absl::StatusOr<Evaluation> Evaluate(const InferenceModel<T>& model,
                                    const ValidatedDataset<T>& data,
                                    PredictWorkspace<T>& workspace) {
  if (!data.Fits(model.config())) {
    return absl::InvalidArgumentError(
        "the dataset was validated for a model of another shape or task");
  }
  const Dataset<T>& d = data.data();
  const bool classification = model.config().task == Task::kClassification;
  const int64_t n = data.size();
  Matrix<T> outputs(model.output_size(), std::min(n, kChunk));
  PredictOptions options;
  // Wide models in smaller chunks: the workspace stays bounded.
  options.max_chunk_rows = model.ChunkRowsWithin(kDefaultMaxWorkspaceBytes);
  options.logits = true;  // the loss takes log-sum-exp of the logits
  double loss_sum = 0;
  int64_t correct = 0;
  for (int64_t begin = 0; begin < n; begin += kChunk) {
    const int64_t size = std::min(kChunk, n - begin);
    MatrixMap<T> out(outputs.data(), outputs.rows(), size);
    BNMLP_RETURN_IF_ERROR(
        Predict(model, PredictInput<T>::FromValidated(data, begin, size), out,
                workspace, NeverStop, options));
    double mean_loss;
    if (classification) {
      mean_loss = SoftmaxCrossEntropy<T>(out, d.labels.subspan(begin, size),
                                         nullptr, &correct);
    } else {
      ConstMatrixMap<T> targets(d.targets.col(begin).data(), d.targets.rows(),
                                size);
      mean_loss = MeanSquaredError<T>(AsConst(out), targets, nullptr);
    }
    loss_sum += mean_loss * static_cast<double>(size);
  }
  Evaluation result;
  result.samples = n;
  result.loss = loss_sum / static_cast<double>(n);
  if (classification) {
    result.accuracy = static_cast<double>(correct) / static_cast<double>(n);
  }
  return result;
}

#define BNMLP_INSTANTIATE(T)                                                  \
  template absl::StatusOr<Evaluation> Evaluate<T>(const Model<T>&,            \
                                                  const Dataset<T>&);         \
  template absl::StatusOr<Evaluation> Evaluate<T>(const InferenceModel<T>&,   \
                                                  const ValidatedDataset<T>&, \
                                                  PredictWorkspace<T>&);
BNMLP_INSTANTIATE(float)
BNMLP_INSTANTIATE(double)
#undef BNMLP_INSTANTIATE

}  // namespace bnmlp
