#include "tests/client/test_files.h"

#include <random>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace bnmlp::client_testing {

std::string SeparableCsv(int rows, int features, int classes, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  std::string csv;
  std::vector<float> row(features);
  for (int r = 0; r < rows; ++r) {
    int label = 0;
    for (int f = 0; f < features; ++f) {
      row[f] = uniform(rng);
      if (f < classes && row[f] > row[label]) label = f;
    }
    absl::StrAppend(&csv, absl::StrJoin(row, ","), ",", label, "\n");
  }
  return csv;
}

}  // namespace bnmlp::client_testing
