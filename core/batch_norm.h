// BatchNorm1d over a (features x batch) matrix, with PyTorch's semantics:
// training normalizes with the batch mean and the biased variance, running
// statistics take the unbiased variance, evaluation uses running statistics.
#ifndef BNMLP_CORE_BATCH_NORM_H_
#define BNMLP_CORE_BATCH_NORM_H_

#include <cstdint>

#include "core/matrix.h"

namespace bnmlp {

// Training-mode BatchNorm of one layer over one batch: keeps the batch
// statistics between the forward and backward passes. Buffers are sized by
// Resize and reused, so Normalize/Backward never allocate. Not thread-safe.
//
// Precision, for T = float: every per-feature sum over the batch (the mean,
// the centered sum of squares, Backward's sum(dy) and sum(dy x_hat)) and the
// running-statistics update are computed in double and rounded to float
// once, so the statistics are the double ones rounded, however large the
// batch and however far the features sit from zero (a float sum over n
// samples loses ~log2(n) bits, more when |mean| >> std). The elementwise
// passes stay in float (vector width); Normalize subtracts the double mean
// as a float pair (hi + lo), so x_hat carries no shared offset from the
// mean's rounding. tests/core/batch_norm_accumulation_test.cc checks the
// bounds; tests/core/batch_norm_drift_test.cc the effect on a training run
// against PyTorch float32. For T = double nothing changes.
template <typename T>
class BatchNormTraining {
 public:
  void Resize(int64_t features);

  // In place: x becomes x_hat = (x - mean) / sqrt(var + eps), per feature
  // (row) over the batch (columns), with the biased variance. Requires
  // x.cols() >= 2 and x.rows() == the Resize'd feature count.
  void Normalize(MatrixMap<T> x, T eps);

  // In place: grad holds dL/dy for y = gamma x_hat + beta and becomes dL/dx
  // through the batch statistics, in the compact form
  //   dx = gamma inv_std / m (m dy - sum(dy) - x_hat sum(dy x_hat)).
  // Writes dgamma = sum(dy x_hat) and dbeta = sum(dy). Uses inv_std from the
  // last Normalize, which must have been of this batch.
  void Backward(MatrixMap<T> grad, ConstMatrixMap<T> x_hat,
                const Vector<T>& gamma, Vector<T>& dgamma, Vector<T>& dbeta);

  // running <- (1 - momentum) running + momentum * batch statistic, with the
  // variance made unbiased by n / (n - 1) (n = the batch size Normalize saw).
  void UpdateRunningStatistics(T momentum, Vector<T>& running_mean,
                               Vector<T>& running_var) const;

  // The last Normalize's statistics, rounded to T.
  const Vector<T>& mean() const { return mean_; }
  const Vector<T>& var() const { return var_; }  // biased

 private:
  int64_t batch_ = 0;
  // The batch statistics in double (as accumulated) and rounded to T.
  Vector<double> mean_acc_, var_acc_, inv_std_acc_;
  Vector<T> mean_;  // also the "hi" part of the mean
  Vector<T> var_;
  Vector<T> inv_std_;
  // (mean - mean_) * inv_std: the mean's low part, scaled, in T.
  Vector<T> shift_lo_;
  // Backward's per-feature sums, sum(dy) and sum(dy x_hat).
  Vector<double> sum_dy_, sum_dy_x_hat_;
  // Per-feature coefficients of Backward's dx = a dy - b x_hat - c.
  Vector<T> a_, b_, c_;
};

// Evaluation mode folded into one affine map y = scale x + shift:
// scale = gamma / sqrt(running_var + eps), shift = beta - running_mean scale.
template <typename T>
void EvalScaleShift(const Vector<T>& gamma, const Vector<T>& beta,
                    const Vector<T>& running_mean, const Vector<T>& running_var,
                    T eps, Vector<T>& scale, Vector<T>& shift);

extern template class BatchNormTraining<float>;
extern template class BatchNormTraining<double>;

}  // namespace bnmlp

#endif  // BNMLP_CORE_BATCH_NORM_H_
