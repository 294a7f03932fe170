// The output layer's losses and their gradients with respect to its
// pre-activation values.
#ifndef BNMLP_CORE_LOSS_H_
#define BNMLP_CORE_LOSS_H_

#include <cstdint>

#include "absl/types/span.h"
#include "core/matrix.h"

namespace bnmlp {

// In place: each column of logits (classes x N) becomes its softmax.
template <typename T>
void Softmax(MatrixMap<T> logits);

// In place: logits (classes x N) become softmax probabilities. Returns the
// mean cross-entropy -log p[label], computed with log-sum-exp so it stays
// finite for confident mistakes. Adds the number of columns whose first
// largest logit is the label to *correct (if not null). If grad is not null
// (classes x N), writes dL/dlogits = (p - onehot(label)) / N. Labels must be
// in [0, classes).
template <typename T>
double SoftmaxCrossEntropy(MatrixMap<T> logits,
                           absl::Span<const int32_t> labels, MatrixMap<T>* grad,
                           int64_t* correct);

// Mean squared error over all entries (torch.nn.functional.mse_loss). If
// grad is not null, writes dL/doutputs = 2 (outputs - targets) / size.
template <typename T>
double MeanSquaredError(ConstMatrixMap<T> outputs, ConstMatrixMap<T> targets,
                        MatrixMap<T>* grad);

}  // namespace bnmlp

#endif  // BNMLP_CORE_LOSS_H_
