#include "core/evaluate.h"

#include <algorithm>

#include "core/loss.h"
#include "core/predict.h"

namespace bnmlp {
namespace {
// Samples per Predict call: bounds the activations' memory on large sets.
constexpr int64_t kChunk = 1024;
}  // namespace

template <typename T>
absl::StatusOr<Evaluation> Evaluate(const Model<T>& model,
                                    const Dataset<T>& data) {
  if (absl::Status s = ValidateDataset(model.config(), data); !s.ok()) {
    return s;
  }
  return EvaluateValidated(model, data);
}

template <typename T>
Evaluation EvaluateValidated(const Model<T>& model, const Dataset<T>& data) {
  const bool classification = model.config().task == Task::kClassification;
  const int64_t n = data.size();
  Matrix<T> outputs(model.output_size(), std::min(n, kChunk));
  double loss_sum = 0;
  int64_t correct = 0;
  for (int64_t begin = 0; begin < n; begin += kChunk) {
    const int64_t size = std::min(kChunk, n - begin);
    ConstMatrixMap<T> x(data.x.col(begin).data(), data.x.rows(), size);
    MatrixMap<T> out(outputs.data(), outputs.rows(), size);
    // Shapes match: ValidateDataset checked them against the model.
    PredictLogits(model, x, out).IgnoreError();
    double mean_loss;
    if (classification) {
      mean_loss = SoftmaxCrossEntropy<T>(out, data.labels.subspan(begin, size),
                                         nullptr, &correct);
    } else {
      ConstMatrixMap<T> targets(data.targets.col(begin).data(),
                                data.targets.rows(), size);
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

template Evaluation EvaluateValidated<float>(const Model<float>&,
                                             const Dataset<float>&);
template Evaluation EvaluateValidated<double>(const Model<double>&,
                                              const Dataset<double>&);
template absl::StatusOr<Evaluation> Evaluate<float>(const Model<float>&,
                                                    const Dataset<float>&);
template absl::StatusOr<Evaluation> Evaluate<double>(const Model<double>&,
                                                     const Dataset<double>&);

}  // namespace bnmlp
