#include "client/cli/dataset_loading.h"

#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
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

// The answer columns' indices in a row of `columns` fields, in answer order;
// INVALID_ARGUMENT naming the option if one is out of range or repeated.
absl::StatusOr<std::vector<int64_t>> ResolveAnswerColumns(
    const std::string& path, const data::CsvOptions& options, int64_t columns) {
  const char* option = options.task == data::CsvTask::kClassification
                           ? "label_column"
                           : "target_columns";
  std::vector<int64_t> resolved;
  for (const int index : AnswerColumns(options)) {
    const int64_t column = index < 0 ? index + columns : index;
    if (column < 0 || column >= columns) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": ", option, " ", index, " is out of range for ", columns,
          " columns; expected ", -columns, "..", columns - 1));
    }
    if (absl::c_linear_search(resolved, column)) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": ", option, " names column ", column,
                       " twice; expected distinct columns"));
    }
    resolved.push_back(column);
  }
  return resolved;
}

// A label read as a number: a non-negative integer that fits int32.
bool IsClassIndex(float value) {
  return value >= 0 && value == std::floor(value) &&
         value <= static_cast<float>(std::numeric_limits<int32_t>::max());
}

// Splits the answer columns out of a features-only read (unscaled): labels
// (classification) or targets (regression); the other columns, scaled, stay
// features in file order.
absl::StatusOr<data::Examples> SplitAnswerColumns(
    const std::string& path, const data::Examples& all,
    const data::CsvOptions& options) {
  BNMLP_ASSIGN_OR_RETURN(const std::vector<int64_t> answers,
                         ResolveAnswerColumns(path, options, all.num_features));
  std::vector<bool> is_answer(all.num_features, false);
  for (const int64_t column : answers) is_answer[column] = true;
  const bool classification = options.task == data::CsvTask::kClassification;

  data::Examples examples;
  examples.num_samples = all.num_samples;
  examples.num_features =
      all.num_features - static_cast<int64_t>(answers.size());
  examples.num_targets =
      classification ? 0 : static_cast<int64_t>(answers.size());
  examples.features.reserve(examples.num_samples * examples.num_features);
  for (int64_t row = 0; row < all.num_samples; ++row) {
    const float* fields = &all.features[row * all.num_features];
    for (int64_t c = 0; c < all.num_features; ++c) {
      if (!is_answer[c]) {
        examples.features.push_back(fields[c] * options.feature_scale);
      }
    }
    for (const int64_t column : answers) {
      const float value = fields[column];
      if (!classification) {
        examples.targets.push_back(value);
      } else if (IsClassIndex(value)) {
        examples.labels.push_back(static_cast<int32_t>(value));
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ": data row ", row + 1, ": label ", value,
                         " is not a class index (a non-negative integer)"));
      }
    }
  }
  return examples;
}

// Whether the file holds the answer columns is told by its column count, so
// it is read once as features only (stdin cannot be read twice) and split.
absl::StatusOr<data::Examples> LoadPredictionCsv(
    const std::string& path, const data::CsvOptions& csv_options,
    int64_t model_inputs) {
  data::CsvOptions options = csv_options;
  options.task = data::CsvTask::kFeaturesOnly;
  options.target_columns.clear();
  options.feature_scale = 1;
  BNMLP_ASSIGN_OR_RETURN(data::Examples read, data::ReadCsv(path, options));
  const int64_t columns = read.num_features;
  if (columns == model_inputs) {
    for (float& value : read.features) value *= csv_options.feature_scale;
    return read;
  }
  const int64_t answers =
      static_cast<int64_t>(AnswerColumns(csv_options).size());
  if (columns == model_inputs + answers) {
    return SplitAnswerColumns(path, read, csv_options);
  }
  return absl::InvalidArgumentError(absl::StrCat(
      path, ": rows have ", columns, " columns, but the model takes ",
      model_inputs, " features: expected ", model_inputs,
      " columns (features only) or ", model_inputs + answers,
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

absl::Status CheckExamplesFitModel(const data::Examples& examples,
                                   const DataFiles& files,
                                   const ModelShape& model) {
  if (examples.num_features != model.inputs) {
    return absl::InvalidArgumentError(
        absl::StrCat(files.Describe(), " has ", examples.num_features,
                     " features per sample, but model '", model.name,
                     "' takes ", model.inputs, " inputs"));
  }
  if (model.classification) {
    // IDX data keeps its labels in their own file; CSV in a column.
    const std::string& label_file =
        files.csv.empty() ? files.labels : files.Describe();
    for (size_t row = 0; row < examples.labels.size(); ++row) {
      const int32_t label = examples.labels[row];
      if (label < 0 || label >= model.outputs) {
        return absl::InvalidArgumentError(absl::StrCat(
            label_file, ": data row ", row + 1, " has class ", label,
            ", which does not fit model '", model.name, "': it has ",
            model.outputs, " classes (0 to ", model.outputs - 1, ")"));
      }
    }
  } else if (!examples.targets.empty() &&
             examples.num_targets != model.outputs) {
    return absl::InvalidArgumentError(absl::StrCat(
        files.Describe(), " has ", examples.num_targets,
        " target columns, which does not fit model '", model.name, "': it has ",
        model.outputs, model.outputs == 1 ? " output" : " outputs"));
  }
  return absl::OkStatus();
}

}  // namespace bnmlp::cli
