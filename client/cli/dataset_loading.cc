#include "client/cli/dataset_loading.h"

#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "data/idx_reader.h"

namespace bnmlp::cli {
namespace {

std::string CsvPath(const std::string& csv) {
  return csv == "-" ? "/dev/stdin" : csv;
}

// The columns a prediction file may carry besides the features: the label
// column (classification) or the target columns (regression).
std::vector<int> AnswerColumns(const data::CsvOptions& options) {
  if (options.task == data::CsvTask::kClassification) {
    return {options.label_column};
  }
  return options.target_columns.empty() ? std::vector<int>{-1}
                                        : options.target_columns;
}

// Puts the answer columns, read as targets, back among the features where
// they stood in the file: for a file that turned out to hold features only.
data::Examples RejoinAnswerColumns(const data::Examples& read,
                                   const std::vector<int>& answer_columns,
                                   float feature_scale) {
  const int64_t columns = read.num_features + read.num_targets;
  std::vector<int> target_index_of_column(columns, -1);
  for (size_t t = 0; t < answer_columns.size(); ++t) {
    const int c = answer_columns[t];
    target_index_of_column[c < 0 ? c + columns : c] = static_cast<int>(t);
  }
  data::Examples examples;
  examples.num_samples = read.num_samples;
  examples.num_features = columns;
  examples.features.reserve(read.num_samples * columns);
  for (int64_t row = 0; row < read.num_samples; ++row) {
    const float* features = &read.features[row * read.num_features];
    const float* targets = &read.targets[row * read.num_targets];
    for (int64_t c = 0; c < columns; ++c) {
      const int t = target_index_of_column[c];
      examples.features.push_back(t < 0 ? *features++
                                        : targets[t] * feature_scale);
    }
  }
  return examples;
}

absl::Status TargetsToLabels(const std::string& path, data::Examples* read) {
  read->labels.reserve(read->num_samples);
  for (int64_t row = 0; row < read->num_samples; ++row) {
    const float value = read->targets[row];
    if (!(value >= 0) || value != std::floor(value) ||
        value > static_cast<float>(std::numeric_limits<int32_t>::max())) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": data row ", row + 1, ": label ", value,
                       " is not a class index (a non-negative integer)"));
    }
    read->labels.push_back(static_cast<int32_t>(value));
  }
  read->targets.clear();
  read->num_targets = 0;
  return absl::OkStatus();
}

absl::StatusOr<data::Examples> LoadPredictionCsv(
    const std::string& path, const data::CsvOptions& csv_options,
    int64_t model_inputs) {
  // Reading the answer columns as regression targets (any finite number)
  // lets one read serve files with and without them.
  data::CsvOptions options = csv_options;
  const std::vector<int> answer_columns = AnswerColumns(csv_options);
  options.task = data::CsvTask::kRegression;
  options.target_columns = answer_columns;
  absl::StatusOr<data::Examples> read = data::ReadCsv(path, options);
  if (!read.ok()) return read.status();
  if (read->num_features == model_inputs) {
    if (csv_options.task == data::CsvTask::kClassification) {
      if (absl::Status s = TargetsToLabels(path, &*read); !s.ok()) return s;
    }
    return read;
  }
  const int64_t columns = read->num_features + read->num_targets;
  if (columns == model_inputs) {
    return RejoinAnswerColumns(*read, answer_columns,
                               csv_options.feature_scale);
  }
  return absl::InvalidArgumentError(absl::StrCat(
      path, ": rows have ", columns, " columns, but the model takes ",
      model_inputs, " features: expected ", model_inputs,
      " columns (features only) or ", model_inputs + read->num_targets,
      " (features plus the ",
      csv_options.task == data::CsvTask::kClassification ? "label column"
                                                         : "target columns",
      ")"));
}

}  // namespace

std::string DataFiles::Describe() const {
  if (!csv.empty()) return csv == "-" ? std::string("stdin") : csv;
  return labels.empty() ? images : absl::StrCat(images, " + ", labels);
}

void KeepFirstSamples(int64_t limit, data::Examples* examples) {
  if (limit <= 0 || limit >= examples->num_samples) return;
  examples->num_samples = limit;
  examples->features.resize(limit * examples->num_features);
  if (!examples->labels.empty()) examples->labels.resize(limit);
  if (!examples->targets.empty()) {
    examples->targets.resize(limit * examples->num_targets);
  }
}

absl::StatusOr<data::Examples> LoadTrainingExamples(
    const DataFiles& files, const data::CsvOptions& csv_options) {
  if (!files.csv.empty()) return data::ReadCsv(CsvPath(files.csv), csv_options);
  if (files.labels.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the IDX images ", files.images,
                     " need an IDX labels file to train on"));
  }
  return data::ReadIdxDataset(files.images, files.labels);
}

absl::StatusOr<data::Examples> LoadPredictionExamples(
    const DataFiles& files, const data::CsvOptions& csv_options,
    int64_t model_inputs) {
  if (!files.csv.empty()) {
    return LoadPredictionCsv(CsvPath(files.csv), csv_options, model_inputs);
  }
  if (files.labels.empty()) return data::ReadIdxImages(files.images);
  return data::ReadIdxDataset(files.images, files.labels);
}

}  // namespace bnmlp::cli
