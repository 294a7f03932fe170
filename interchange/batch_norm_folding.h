// A model's evaluation-mode forward pass as plain layers y = g(W x + b):
// every BatchNorm, which in evaluation mode is an affine map per feature,
// folded into a product. For ONNX exports with fewer nodes.
#ifndef BNMLP_INTERCHANGE_BATCH_NORM_FOLDING_H_
#define BNMLP_INTERCHANGE_BATCH_NORM_FOLDING_H_

#include <vector>

#include "core/matrix.h"
#include "core/model.h"

namespace bnmlp {

struct FoldedLayer {
  RowMajorMatrix<float> weight;                   // [out, in]
  Vector<float> bias;                             // [out]
  Activation activation = Activation::kIdentity;  // identity on the output
};

// With s = gamma / sqrt(running_var + eps) and t = beta - s running_mean
// (BatchNorm y = s x + t):
// - pre-activation, g(BN(W x)) = g((diag(s) W) x + t): the layer's own
//   product absorbs it;
// - post-activation, BN comes after g, so the NEXT product absorbs it:
//   W' (s a + t) + b' = (W' diag(s)) a + (W' t + b');
// - none: the layers as they are.
// Computed in double from the float parameters (eps as the engine uses it,
// rounded to float), so the result differs from the unfolded model by a
// float rounding or two. The output layer's activation is the identity
// (softmax is the caller's).
std::vector<FoldedLayer> FoldBatchNorm(const Model<float>& model);

}  // namespace bnmlp

#endif  // BNMLP_INTERCHANGE_BATCH_NORM_FOLDING_H_
