// Counts (true class, predicted class) pairs and renders them as a table.
#ifndef BNMLP_CLIENT_CLI_CONFUSION_MATRIX_H_
#define BNMLP_CLIENT_CLI_CONFUSION_MATRIX_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace bnmlp::cli {

// Not thread-safe.
class ConfusionMatrix {
 public:
  // `num_classes` > 0.
  explicit ConfusionMatrix(int num_classes);

  // Builds the matrix of `truth[i]` vs `predicted[i]`. INVALID_ARGUMENT if
  // the spans differ in length or a class is outside [0, num_classes),
  // naming the row.
  static absl::StatusOr<ConfusionMatrix> FromPairs(
      int num_classes, absl::Span<const int32_t> truth,
      absl::Span<const int32_t> predicted);

  absl::Status Add(int32_t truth, int32_t predicted);

  int num_classes() const { return num_classes_; }
  int64_t total() const { return total_; }
  int64_t correct() const { return correct_; }
  int64_t count(int truth, int predicted) const {
    return counts_[truth * num_classes_ + predicted];
  }
  // Fraction on the diagonal; 0 when empty.
  double accuracy() const;
  // Rows: true class, columns: predicted class. `class_names` (optional,
  // num_classes entries) label the rows; columns are numbered.
  std::string Render(absl::Span<const std::string> class_names = {}) const;

 private:
  int num_classes_;
  int64_t total_ = 0;
  int64_t correct_ = 0;
  std::vector<int64_t> counts_;  // Row-major [truth, predicted].
};

}  // namespace bnmlp::cli

#endif  // BNMLP_CLIENT_CLI_CONFUSION_MATRIX_H_
