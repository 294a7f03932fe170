// Loads the examples the CLI sends: CSV or IDX files (plain or gzip),
// Debian's Fashion-MNIST, or CSV on stdin, through the readers in data/.
#ifndef BNMLP_CLIENT_CLI_DATASET_LOADING_H_
#define BNMLP_CLIENT_CLI_DATASET_LOADING_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "data/csv_reader.h"
#include "data/examples.h"

namespace bnmlp::cli {

// One data source: a CSV file ("-" or "/dev/stdin" for stdin), or an IDX
// images file with an optional IDX labels file.
struct DataFiles {
  std::string csv;
  std::string images;
  std::string labels;

  bool empty() const { return csv.empty() && images.empty(); }
  // "train.csv" or "images.idx + labels.idx", for messages.
  std::string Describe() const;
};

// Keeps the first `limit` samples (all when limit <= 0 or larger than the set).
void KeepFirstSamples(int64_t limit, data::Examples* examples);

// Reads labelled (classification) or target (regression) examples for
// training: CSV through data::ReadCsv with `csv_options`, IDX through
// data::ReadIdxDataset (labels required). The readers' errors (naming file,
// line or offset) are returned unchanged.
absl::StatusOr<data::Examples> LoadTrainingExamples(
    const DataFiles& files, const data::CsvOptions& csv_options);

// Reads examples to predict for a model with `model_inputs` features. IDX
// labels are optional. A CSV file may hold just the features (model_inputs
// columns) or the features plus its label column (classification) / target
// columns (regression) as `csv_options` place them; which one is decided
// by the column count, so the same file works labelled or not. Labels must
// be non-negative integers. INVALID_ARGUMENT naming the file if the column
// count fits neither.
absl::StatusOr<data::Examples> LoadPredictionExamples(
    const DataFiles& files, const data::CsvOptions& csv_options,
    int64_t model_inputs);

// What the loaded data must fit: a model's inputs and outputs.
struct ModelShape {
  std::string name;
  int64_t inputs = 0;
  // Classes (classification) or target columns (regression).
  int64_t outputs = 0;
  bool classification = true;
};

// Checks, before anything is sent, that `examples` read from `files` fit
// `model`: as many features as inputs; for classification every label a
// class in [0, outputs); for regression targets (if any) `outputs` columns
// wide. INVALID_ARGUMENT otherwise, naming the file (the labels file for
// IDX data), the model and what it takes; for a label, also the data row
// (counted from 1) and the class count, e.g.
//   "labels.csv: data row 3 has class 12, which does not fit model 'm': it
//    has 10 classes (0 to 9)".
absl::Status CheckExamplesFitModel(const data::Examples& examples,
                                   const DataFiles& files,
                                   const ModelShape& model);

}  // namespace bnmlp::cli

#endif  // BNMLP_CLIENT_CLI_DATASET_LOADING_H_
