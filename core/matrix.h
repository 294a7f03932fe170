// Eigen aliases shared by the engine.
//
// A batch is a column-major (features x batch) matrix: sample j is column j.
// Its memory is exactly a row-major [batch, features] buffer, so a protobuf
// Tensor of shape [N, F] maps onto it without a copy.
#ifndef BNMLP_CORE_MATRIX_H_
#define BNMLP_CORE_MATRIX_H_

#include <Eigen/Core>

namespace bnmlp {

template <typename T>
using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
// Weights are stored [out, in] row-major, the layout of torch.nn.Linear.weight.
template <typename T>
using RowMajorMatrix =
    Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <typename T>
using Vector = Eigen::Matrix<T, Eigen::Dynamic, 1>;

template <typename T>
using MatrixMap = Eigen::Map<Matrix<T>>;
template <typename T>
using ConstMatrixMap = Eigen::Map<const Matrix<T>>;
template <typename T>
using VectorMap = Eigen::Map<Vector<T>>;
template <typename T>
using ConstVectorMap = Eigen::Map<const Vector<T>>;
// A block of a column-major matrix: contiguous columns of `rows` entries,
// `outer stride` apart (e.g. some rows of a batch).
template <typename T>
using StridedMatrixMap = Eigen::Map<Matrix<T>, 0, Eigen::OuterStride<>>;

// A read-only view of the same memory (Eigen has no implicit conversion).
template <typename T>
ConstMatrixMap<T> AsConst(const MatrixMap<T>& m) {
  return ConstMatrixMap<T>(m.data(), m.rows(), m.cols());
}

}  // namespace bnmlp

#endif  // BNMLP_CORE_MATRIX_H_
