// Finding NaN and infinity in input data.
#ifndef BNMLP_CORE_FINITE_H_
#define BNMLP_CORE_FINITE_H_

#include <optional>

#include "core/matrix.h"

namespace bnmlp {

// The position of a matrix entry: m(row, col), i.e. feature `row` of
// sample `col` in the engine's (features x N) layout.
struct MatrixPosition {
  Eigen::Index row = 0;
  Eigen::Index col = 0;
};

// The first non-finite entry (NaN or +-Inf) of `m`, column by column, or
// nullopt if every entry is finite. One vectorized pass when all are finite
// (the common case); only then a second, scalar one to locate the first bad
// entry.
template <typename T>
std::optional<MatrixPosition> FirstNonFinite(ConstMatrixMap<T> m);

}  // namespace bnmlp

#endif  // BNMLP_CORE_FINITE_H_
