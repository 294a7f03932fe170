#include "core/product_panels.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iterator>
#include <limits>
#include <map>
#include <mutex>
#include <tuple>

#include "core/parallel_product.h"

namespace bnmlp {
namespace {

constexpr Eigen::Index kProbeCols = 16;
constexpr int kRounds = 3;
constexpr int64_t kMaxProbeBytes = int64_t{1} << 20;
constexpr double kMaxProbeMacs = 64.0 * (1 << 20);

// The answers so far, by weight shape and scalar size (see the header).
struct MeasuredShapes {
  // Held while a shape is measured (~1 ms per layer of the usual sizes):
  // folds of new shapes take turns, so the first answer is the one kept.
  std::mutex mu;
  std::map<std::tuple<Eigen::Index, Eigen::Index, size_t>, Eigen::Index>
      panel_cols;  // guarded by mu
};

MeasuredShapes& Measured() {
  static MeasuredShapes measured;
  return measured;
}

// Seconds of one product in panels of `panel_cols` (0: whole).
template <typename T>
double SecondsOf(const RowMajorMatrix<T>& weight, const Matrix<T>& x,
                 Matrix<T>& y, Eigen::Index panel_cols) {
  const auto start = std::chrono::steady_clock::now();
  ProductInPanels(y, weight, x, panel_cols);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

template <typename T>
Eigen::Index MeasurePanelCols(const RowMajorMatrix<T>& weight) {
  const int64_t probe_bytes = (weight.rows() + weight.cols()) * kProbeCols *
                              static_cast<int64_t>(sizeof(T));
  const double macs = static_cast<double>(weight.rows()) *
                      static_cast<double>(weight.cols()) * kProbeCols;
  if (weight.size() == 0 || probe_bytes > kMaxProbeBytes ||
      macs > kMaxProbeMacs) {
    return 0;
  }
  const Matrix<T> x = Matrix<T>::Ones(weight.cols(), kProbeCols);
  Matrix<T> y(weight.rows(), kProbeCols);
  // Candidate 0 is the whole product. Rounds interleave the candidates so
  // that a burst of load on the machine hits them alike; each keeps its
  // best round (the first also warms caches and the BLAS's buffers).
  constexpr int kCandidates = 1 + std::size(kPanelColsCandidates);
  double best[kCandidates];
  std::fill(best, best + kCandidates, std::numeric_limits<double>::max());
  for (int round = 0; round < kRounds; ++round) {
    for (int c = 0; c < kCandidates; ++c) {
      const Eigen::Index panel = c == 0 ? 0 : kPanelColsCandidates[c - 1];
      best[c] = std::min(best[c], SecondsOf(weight, x, y, panel));
    }
  }
  int fastest = 0;
  for (int c = 1; c < kCandidates; ++c) {
    if (best[c] < 0.9 * best[0] && best[c] < best[fastest]) fastest = c;
  }
  return fastest == 0 ? 0 : kPanelColsCandidates[fastest - 1];
}

}  // namespace

template <typename T>
Eigen::Index FastestPanelCols(const RowMajorMatrix<T>& weight) {
  MeasuredShapes& measured = Measured();
  std::lock_guard<std::mutex> lock(measured.mu);
  const auto shape = std::make_tuple(weight.rows(), weight.cols(), sizeof(T));
  auto found = measured.panel_cols.find(shape);
  if (found == measured.panel_cols.end()) {
    found = measured.panel_cols.emplace(shape, MeasurePanelCols(weight)).first;
  }
  return found->second;
}

template Eigen::Index FastestPanelCols<float>(const RowMajorMatrix<float>&);
template Eigen::Index FastestPanelCols<double>(const RowMajorMatrix<double>&);

}  // namespace bnmlp
