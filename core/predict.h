// Evaluation-mode inference on a Model, unfolded: the reference path.
// BatchNorm normalizes with the running statistics, so any batch size
// (including one sample) gives the same answer per sample.
//
// Serving uses the folded, allocation-free Predict on an InferenceModel
// (core/inference_model.h); this one recomputes every layer's evaluation
// form and allocates per call, and is what the fold is tested against.
#ifndef BNMLP_CORE_PREDICT_H_
#define BNMLP_CORE_PREDICT_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "core/matrix.h"
#include "core/model.h"

namespace bnmlp {

// Writes the model's outputs for the samples in `x` (inputs x N) into
// `outputs` (outputs x N, caller-allocated): class probabilities (softmax)
// for classification, values for regression. INVALID_ARGUMENT if the shapes
// disagree with the model. Values are not checked. Safe to call concurrently
// on one const model.
template <typename T>
absl::Status Predict(const Model<T>& model, ConstMatrixMap<T> x,
                     MatrixMap<T> outputs);

// Like Predict, but classification outputs stay logits (pre-softmax).
template <typename T>
absl::Status PredictLogits(const Model<T>& model, ConstMatrixMap<T> x,
                           MatrixMap<T> logits);

// classes[j] = the row index of the largest entry of column j (the first on
// ties). classes.size() must equal outputs.cols().
template <typename T>
void ArgmaxPerColumn(ConstMatrixMap<T> outputs, absl::Span<int32_t> classes);

}  // namespace bnmlp

#endif  // BNMLP_CORE_PREDICT_H_
