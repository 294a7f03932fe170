// Which way a weight's forward products run fastest on this machine: whole,
// or in narrow column panels (ProductInPanels, core/parallel_product.h).
//
// Measured, not assumed: the answer depends on the BLAS and the kernels it
// chose for this CPU. On this project's reference machine (OpenBLAS 0.3.21,
// SkylakeX kernels) a 256 x 784 weight times 8 samples takes 107 us whole
// and 21 us in panels of 4 (small-matrix kernels, no packing); where a BLAS
// has no such kernels, panels would pack the weight once per panel and be
// several times slower, so the measurement says "whole" there.
#ifndef BNMLP_CORE_PRODUCT_PANELS_H_
#define BNMLP_CORE_PRODUCT_PANELS_H_

#include "core/matrix.h"

namespace bnmlp {

// The panel widths FastestPanelCols tries, next to the whole product.
inline constexpr Eigen::Index kPanelColsCandidates[] = {2, 4};

// The column panel width (one of kPanelColsCandidates) at which
// weight * x runs fastest for a 16-sample x, when it beats the whole
// product by at least 10%; 0 (whole products) otherwise, and for weights
// whose probe would be costly (more than 1 MiB of probe buffers, or over
// 64 M multiply-adds per product).
//
// Measured once per weight shape (and scalar type) in a process, on the
// calling thread (~1 ms for a 256 x 784 weight), and that answer kept: the
// kernels, and so the bits of every output, must not depend on which run
// of the timing a model happened to get (a model and its copy, or two
// versions of one shape, answer alike). Across processes the answer may
// differ, as timings do. Thread-safe; concurrent first calls for new
// shapes take turns.
template <typename T>
Eigen::Index FastestPanelCols(const RowMajorMatrix<T>& weight);

extern template Eigen::Index FastestPanelCols<float>(
    const RowMajorMatrix<float>&);
extern template Eigen::Index FastestPanelCols<double>(
    const RowMajorMatrix<double>&);

}  // namespace bnmlp

#endif  // BNMLP_CORE_PRODUCT_PANELS_H_
