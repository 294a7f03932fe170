// A reader for delimited text files of numbers (CSV, TSV), plain or gzip.
//
// Format: one sample per line; fields separated by `delimiter` (no quoting:
// every data field is a number); surrounding whitespace, a trailing '\r'
// (Windows line ends), a UTF-8 byte-order mark and blank lines are ignored.
// Every data line must have as many fields as the first one.
//
// Which column is what: columns are numbered from 0, in options and in error
// messages alike; a negative index counts from the end (-1 is the last
// column). With CsvTask::kFeaturesOnly every column is a feature. Otherwise,
// by default the label (classification) or the single target
// (regression) is the LAST column -- the common layout of tabular datasets
// such as UCI's. For files with the label first (e.g. Kaggle's MNIST CSVs)
// set label_column = 0. Every other column is a feature, in file order.
//
// Header: with CsvHeader::kAuto (the default) the first non-blank line is a
// header, and skipped, if any of its fields is not a number
// ("sepal_length,...,species"). A header made only of numbers (pandas writes
// "0,1,2,..." for unnamed columns) needs kPresent; kAbsent makes the first
// line data, so that a non-number there is reported as an error.
//
// Values: features and targets must be finite numbers (NaN, Inf rejected);
// labels must be non-negative integers (3 or 3.0, not 2.5 or -1).
//
// Errors (each message names the file and, for malformed content, the
// 1-based line and 0-based column, the offending text and what was expected):
//   NOT_FOUND / PERMISSION_DENIED  the file cannot be opened;
//   INVALID_ARGUMENT  bad options (also for a column index out of range for
//       the file), a row with the wrong field count, a field that is not a
//       number, a bad label, a file without data rows, a corrupt or truncated
//       gzip stream;
//   RESOURCE_EXHAUSTED  the decompressed file exceeds kDefaultMaxFileBytes.
// The whole file is read into memory first. Thread-safe: no shared state.
#ifndef BNMLP_DATA_CSV_READER_H_
#define BNMLP_DATA_CSV_READER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "data/examples.h"

namespace bnmlp::data {

enum class CsvTask {
  kClassification,  // one label column -> Examples::labels
  kRegression,      // one or more target columns -> Examples::targets
  kFeaturesOnly,    // every column is a feature (inputs to predict on)
};

enum class CsvHeader {
  kAuto,     // the first line is a header if any field is not a number
  kPresent,  // the first line is a header
  kAbsent,   // every line is data
};

struct CsvOptions {
  CsvTask task = CsvTask::kClassification;
  // Classification only: the label column (negative: from the end).
  int label_column = -1;
  // Regression only: the target columns, in the order the targets take in
  // each sample (negative: from the end). Empty means {-1}: the last column.
  // Must be empty for classification and features-only.
  std::vector<int> target_columns;
  CsvHeader header = CsvHeader::kAuto;
  // Any character but a line end, a digit, '.', '+' or '-'; '\t' for TSV.
  char delimiter = ',';
  // Every feature is multiplied by this (e.g. 1 / 255.0f for 0..255 pixel
  // columns); labels and targets are not. Must be finite.
  float feature_scale = 1.0f;
};

// Reads the delimited file at `path` as described above. On success the
// result has num_samples >= 1 rows and num_features >= 1, plus num_samples
// labels (classification) or num_targets >= 1 targets per row (regression);
// features-only gives neither.
absl::StatusOr<Examples> ReadCsv(const std::string& path,
                                 const CsvOptions& options = {});

}  // namespace bnmlp::data

#endif  // BNMLP_DATA_CSV_READER_H_
