#include "core/batch_norm.h"

#include <cmath>

namespace bnmlp {
namespace {

// The loops below walk a (features x batch) column-major matrix one sample
// (column) at a time, so the inner loop runs over contiguous features into
// a features-long double accumulator that stays in L1: the compiler
// vectorizes the float -> double conversion and the adds, and the matrix is
// streamed once per loop. (Eigen's rowwise() reductions would keep the sum
// in T.)

// sum[i] = sum_j x(i, j).
template <typename T>
void SumColumns(const T* x, int64_t features, int64_t batch, double* sum) {
  for (int64_t i = 0; i < features; ++i) sum[i] = 0;
  for (int64_t j = 0; j < batch; ++j) {
    const T* col = x + j * features;
    for (int64_t i = 0; i < features; ++i) {
      sum[i] += static_cast<double>(col[i]);
    }
  }
}

// sum[i] = sum_j (x(i, j) - mean[i])^2.
template <typename T>
void SumCenteredSquares(const T* x, int64_t features, int64_t batch,
                        const double* mean, double* sum) {
  for (int64_t i = 0; i < features; ++i) sum[i] = 0;
  for (int64_t j = 0; j < batch; ++j) {
    const T* col = x + j * features;
    for (int64_t i = 0; i < features; ++i) {
      const double d = static_cast<double>(col[i]) - mean[i];
      sum[i] += d * d;
    }
  }
}

// dy_sum[i] = sum_j dy(i, j); dy_x_sum[i] = sum_j dy(i, j) x(i, j).
template <typename T>
void SumProducts(const T* dy, const T* x, int64_t features, int64_t batch,
                 double* dy_sum, double* dy_x_sum) {
  for (int64_t i = 0; i < features; ++i) dy_sum[i] = dy_x_sum[i] = 0;
  for (int64_t j = 0; j < batch; ++j) {
    const T* dy_col = dy + j * features;
    const T* x_col = x + j * features;
    for (int64_t i = 0; i < features; ++i) {
      const double g = static_cast<double>(dy_col[i]);
      dy_sum[i] += g;
      dy_x_sum[i] += g * static_cast<double>(x_col[i]);
    }
  }
}

}  // namespace

template <typename T>
void BatchNormTraining<T>::Resize(int64_t features) {
  for (Vector<double>* v :
       {&mean_acc_, &var_acc_, &inv_std_acc_, &sum_dy_, &sum_dy_x_hat_}) {
    v->resize(features);
  }
  for (Vector<T>* v : {&mean_, &var_, &inv_std_, &shift_lo_, &a_, &b_, &c_}) {
    v->resize(features);
  }
}

template <typename T>
void BatchNormTraining<T>::Normalize(MatrixMap<T> x, T eps) {
  const int64_t features = x.rows();
  batch_ = x.cols();
  const double inv_batch = 1.0 / static_cast<double>(batch_);
  // Two passes (mean, then the centered sum of squares) rather than
  // E[x^2] - E[x]^2, which cancels badly when |mean| >> std.
  double* mean = mean_acc_.data();
  double* var = var_acc_.data();
  SumColumns(x.data(), features, batch_, mean);
  for (int64_t i = 0; i < features; ++i) mean[i] *= inv_batch;
  SumCenteredSquares(x.data(), features, batch_, mean, var);
  for (int64_t i = 0; i < features; ++i) {
    var[i] *= inv_batch;
    const double inv_std = 1.0 / std::sqrt(var[i] + static_cast<double>(eps));
    inv_std_acc_(i) = inv_std;
    mean_(i) = static_cast<T>(mean[i]);
    var_(i) = static_cast<T>(var[i]);
    inv_std_(i) = static_cast<T>(inv_std);
    shift_lo_(i) = static_cast<T>((mean[i] - mean_(i)) * inv_std);
  }
  // x_hat = (x - hi) inv_std - lo inv_std, in T. Subtracting only the mean
  // rounded to T would shift every sample of a feature by that rounding
  // error, a bias no later sum averages away (up to 2^-24 |mean| / std:
  // 6e-5 when |mean| = 1000 std); the lo term removes it, and the pass keeps
  // T's vector width.
  const T* hi = mean_.data();
  const T* scale = inv_std_.data();
  const T* lo = shift_lo_.data();
  for (int64_t j = 0; j < batch_; ++j) {
    T* col = x.data() + j * features;
    for (int64_t i = 0; i < features; ++i) {
      col[i] = (col[i] - hi[i]) * scale[i] - lo[i];
    }
  }
}

template <typename T>
void BatchNormTraining<T>::Backward(MatrixMap<T> grad, ConstMatrixMap<T> x_hat,
                                    const Vector<T>& gamma, Vector<T>& dgamma,
                                    Vector<T>& dbeta) {
  const int64_t features = grad.rows();
  const double inv_batch = 1.0 / static_cast<double>(grad.cols());
  SumProducts(grad.data(), x_hat.data(), features, grad.cols(), sum_dy_.data(),
              sum_dy_x_hat_.data());
  dbeta = sum_dy_.cast<T>();
  dgamma = sum_dy_x_hat_.cast<T>();
  for (int64_t i = 0; i < features; ++i) {
    const double a = static_cast<double>(gamma(i)) * inv_std_acc_(i);
    a_(i) = static_cast<T>(a);
    b_(i) = static_cast<T>(a * sum_dy_x_hat_(i) * inv_batch);
    c_(i) = static_cast<T>(a * sum_dy_(i) * inv_batch);
  }
  grad.array() = ((grad.array().colwise() * a_.array()) -
                  (x_hat.array().colwise() * b_.array()))
                     .colwise() -
                 c_.array();
}

template <typename T>
void BatchNormTraining<T>::UpdateRunningStatistics(
    T momentum, Vector<T>& running_mean, Vector<T>& running_var) const {
  const double m = static_cast<double>(momentum);
  const double unbias =
      static_cast<double>(batch_) / static_cast<double>(batch_ - 1);
  for (Eigen::Index i = 0; i < running_mean.size(); ++i) {
    running_mean(i) = static_cast<T>(
        (1 - m) * static_cast<double>(running_mean(i)) + m * mean_acc_(i));
    running_var(i) =
        static_cast<T>((1 - m) * static_cast<double>(running_var(i)) +
                       m * unbias * var_acc_(i));
  }
}

template <typename T>
void EvalScaleShift(const Vector<T>& gamma, const Vector<T>& beta,
                    const Vector<T>& running_mean, const Vector<T>& running_var,
                    T eps, Vector<T>& scale, Vector<T>& shift) {
  scale.array() = gamma.array() / (running_var.array() + eps).sqrt();
  shift.array() = beta.array() - running_mean.array() * scale.array();
}

template class BatchNormTraining<float>;
template class BatchNormTraining<double>;
template void EvalScaleShift<float>(const Vector<float>&, const Vector<float>&,
                                    const Vector<float>&, const Vector<float>&,
                                    float, Vector<float>&, Vector<float>&);
template void EvalScaleShift<double>(const Vector<double>&,
                                     const Vector<double>&,
                                     const Vector<double>&,
                                     const Vector<double>&, double,
                                     Vector<double>&, Vector<double>&);

}  // namespace bnmlp
