#include "core/parallel_product.h"

namespace bnmlp {

template <typename T, int DstOrder, int LhsOrder, int RhsOrder>
void NarrowMapProduct(ProductOutput<T, DstOrder> dst,
                      ProductInput<T, LhsOrder> lhs,
                      ProductInput<T, RhsOrder> rhs,
                      const NarrowProductRule& narrow) {
  const Eigen::Index cols = dst.cols();
  if constexpr (std::is_same_v<T, float> && LhsOrder == Eigen::RowMajor &&
                RhsOrder == Eigen::ColMajor && DstOrder == Eigen::ColMajor) {
    if (narrow.skinny && cols >= 2 && cols <= kMaxSkinnyCols) {
      SkinnyProduct(dst, lhs, rhs);
      return;
    }
  }
  const Eigen::Index panel = narrow.panel_cols;
  if (panel <= 0 || cols <= panel || cols > kMaxPanelledCols) {
    dst.noalias() = lhs * rhs;
    return;
  }
  for (Eigen::Index col = 0; col < cols; col += panel) {
    const Eigen::Index width = std::min(panel, cols - col);
    // As maps again, so that the panels are the whole product's types.
    AsProductOutput(dst.middleCols(col, width)).noalias() =
        lhs * AsProductInput(rhs.middleCols(col, width));
  }
}

// Every scalar and storage order an operand can have.
#define BNMLP_NARROW_MAP_PRODUCT(T, DST, LHS, RHS)                       \
  template void NarrowMapProduct<T, Eigen::DST, Eigen::LHS, Eigen::RHS>( \
      ProductOutput<T, Eigen::DST>, ProductInput<T, Eigen::LHS>,         \
      ProductInput<T, Eigen::RHS>, const NarrowProductRule&);
#define BNMLP_NARROW_MAP_PRODUCTS_RHS(T, DST, LHS) \
  BNMLP_NARROW_MAP_PRODUCT(T, DST, LHS, ColMajor)  \
  BNMLP_NARROW_MAP_PRODUCT(T, DST, LHS, RowMajor)
#define BNMLP_NARROW_MAP_PRODUCTS_LHS(T, DST)     \
  BNMLP_NARROW_MAP_PRODUCTS_RHS(T, DST, ColMajor) \
  BNMLP_NARROW_MAP_PRODUCTS_RHS(T, DST, RowMajor)
#define BNMLP_NARROW_MAP_PRODUCTS(T)         \
  BNMLP_NARROW_MAP_PRODUCTS_LHS(T, ColMajor) \
  BNMLP_NARROW_MAP_PRODUCTS_LHS(T, RowMajor)
BNMLP_NARROW_MAP_PRODUCTS(float)
BNMLP_NARROW_MAP_PRODUCTS(double)
#undef BNMLP_NARROW_MAP_PRODUCTS
#undef BNMLP_NARROW_MAP_PRODUCTS_LHS
#undef BNMLP_NARROW_MAP_PRODUCTS_RHS
#undef BNMLP_NARROW_MAP_PRODUCT

}  // namespace bnmlp
