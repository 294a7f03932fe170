// A dataset held in memory, as the readers in data/ return it.
#ifndef BNMLP_DATA_EXAMPLES_H_
#define BNMLP_DATA_EXAMPLES_H_

#include <cstdint>
#include <vector>

namespace bnmlp::data {

// Row-major, the layout of a bnmlp.v1 Tensor of shape [num_samples,
// num_features]: sample i's features are
// features[i * num_features, (i + 1) * num_features).
// A classification set has num_samples labels and no targets; a regression
// set has num_targets > 0 columns of targets and no labels; a features-only
// set (ReadIdxImages) has neither.
struct Examples {
  int64_t num_samples = 0;
  int64_t num_features = 0;
  std::vector<float> features;
  std::vector<int32_t> labels;  // classification: num_samples entries
  int64_t num_targets = 0;      // regression: columns per sample
  std::vector<float> targets;   // regression: [num_samples, num_targets]
};

}  // namespace bnmlp::data

#endif  // BNMLP_DATA_EXAMPLES_H_
