#include "core/predict_input.h"

#include "absl/strings/str_cat.h"
#include "core/finite.h"
#include "core/inference_model.h"

namespace bnmlp {

template <typename T>
absl::StatusOr<PredictInput<T>> ValidatePredictInput(
    const InferenceModel<T>& model, ConstMatrixMap<T> x) {
  const int64_t inputs = model.input_size();
  if (x.cols() < 1 || x.rows() != inputs) {
    return absl::InvalidArgumentError(absl::StrCat(
        "x: expected shape [N, ", inputs, "] with N >= 1 (the model has ",
        inputs, " inputs), got [", x.cols(), ", ", x.rows(), "]"));
  }
  if (const std::optional<MatrixPosition> bad = FirstNonFinite(x)) {
    return absl::InvalidArgumentError(
        absl::StrCat("x: expected finite values, got ", x(bad->row, bad->col),
                     " at sample ", bad->col, ", feature ", bad->row));
  }
  return PredictInput<T>(x);
}

template absl::StatusOr<PredictInput<float>> ValidatePredictInput<float>(
    const InferenceModel<float>&, ConstMatrixMap<float>);
template absl::StatusOr<PredictInput<double>> ValidatePredictInput<double>(
    const InferenceModel<double>&, ConstMatrixMap<double>);

}  // namespace bnmlp
