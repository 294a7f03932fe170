// Predict's input, validated once: the type the fast Predict
// (core/inference_model.h) accepts.
#ifndef BNMLP_CORE_PREDICT_INPUT_H_
#define BNMLP_CORE_PREDICT_INPUT_H_

#include <cassert>
#include <cstdint>
#include <cstring>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
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

  // The samples of every part, in order, copied into `storage` (grown if
  // smaller than their total; the result views it, so it must outlive the
  // result and stay unmodified). Validated already: each part is. Requires
  // at least one part, all with the same number of features. For merging
  // concurrent Predicts into one product (server/predict_batcher.h).
  static PredictInput Concatenate(absl::Span<const PredictInput> parts,
                                  Vector<T>& storage) {
    assert(!parts.empty());
    const Eigen::Index features = parts.front().x().rows();
    Eigen::Index samples = 0;
    for (const PredictInput& part : parts) {
      assert(part.x().rows() == features);
      samples += part.samples();
    }
    if (storage.size() < features * samples) storage.resize(features * samples);
    T* next = storage.data();
    for (const PredictInput& part : parts) {
      // Column-major (features x n): each part is one contiguous block.
      const size_t values = static_cast<size_t>(part.x().size());
      std::memcpy(next, part.x().data(), values * sizeof(T));
      next += values;
    }
    return PredictInput(ConstMatrixMap<T>(storage.data(), features, samples));
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
