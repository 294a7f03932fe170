// Predict's input, validated once: the type the fast Predict
// (core/inference_model.h) accepts.
#ifndef BNMLP_CORE_PREDICT_INPUT_H_
#define BNMLP_CORE_PREDICT_INPUT_H_

#include <cassert>
#include <cstdint>

#include "absl/status/statusor.h"
#include "core/dataset.h"
#include "core/matrix.h"

namespace bnmlp {

template <typename T>
class InferenceModel;
template <typename T>
class PredictInput;

// OK with the validated view if `x` (inputs x N, the API's [N, inputs]
// tensor `x`) has the model's input count, N >= 1, and only finite values.
// Otherwise INVALID_ARGUMENT naming the field `x` and, for a non-finite
// value, the sample and feature of the first one; messages quote sizes and
// single values only, never the data. One pass over x.
template <typename T>
absl::StatusOr<PredictInput<T>> ValidatePredictInput(
    const InferenceModel<T>& model, ConstMatrixMap<T> x);

// A view of samples that passed ValidatePredictInput for some model (or
// that come from a ValidatedDataset): (inputs x N), N >= 1, all finite.
// The viewed memory must outlive it and stay unmodified.
template <typename T>
class PredictInput {
 public:
  // Samples [begin, begin + size) of a validated dataset, which need no
  // second check. Requires 0 <= begin, size >= 1, begin + size <=
  // data.size().
  static PredictInput FromValidated(const ValidatedDataset<T>& data,
                                    int64_t begin, int64_t size) {
    assert(begin >= 0 && size >= 1 && begin + size <= data.size());
    const ConstMatrixMap<T>& x = data.data().x;
    return PredictInput(
        ConstMatrixMap<T>(x.data() + begin * x.rows(), x.rows(), size));
  }

  ConstMatrixMap<T> x() const { return x_; }
  int64_t samples() const { return x_.cols(); }

 private:
  template <typename U>
  friend absl::StatusOr<PredictInput<U>> ValidatePredictInput(
      const InferenceModel<U>&, ConstMatrixMap<U>);

  explicit PredictInput(ConstMatrixMap<T> x) : x_(x) {}

  ConstMatrixMap<T> x_;
};

}  // namespace bnmlp

#endif  // BNMLP_CORE_PREDICT_INPUT_H_
