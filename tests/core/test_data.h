// Synthetic datasets for engine tests.
#ifndef BNMLP_TESTS_CORE_TEST_DATA_H_
#define BNMLP_TESTS_CORE_TEST_DATA_H_

#include <cstdint>
#include <random>
#include <vector>

#include "core/dataset.h"
#include "core/matrix.h"

namespace bnmlp::testing {

// Gaussian blobs: `classes` well-separated centers in `features` dimensions,
// `n` samples (samples as columns) with labels.
struct Blobs {
  Matrix<float> x;
  std::vector<int32_t> labels;

  Dataset<float> View() const {
    Dataset<float> d;
    new (&d.x) ConstMatrixMap<float>(x.data(), x.rows(), x.cols());
    d.labels = labels;
    return d;
  }
};

inline Blobs MakeBlobs(int64_t n, int64_t features, int classes, uint64_t seed,
                       float spread = 1.0f) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  Matrix<float> centers(features, classes);
  for (Eigen::Index i = 0; i < centers.size(); ++i) {
    centers.data()[i] = 3.0f * normal(rng);
  }
  Blobs b{Matrix<float>(features, n), std::vector<int32_t>(n)};
  for (int64_t j = 0; j < n; ++j) {
    const int label = static_cast<int>(j % classes);
    b.labels[j] = label;
    for (int64_t i = 0; i < features; ++i) {
      b.x(i, j) = centers(i, label) + spread * normal(rng);
    }
  }
  return b;
}

}  // namespace bnmlp::testing

#endif  // BNMLP_TESTS_CORE_TEST_DATA_H_
