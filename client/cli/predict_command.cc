// bnmlp predict: classes (or regression values) for a file or stdin, plus
// accuracy and a confusion matrix when the input carries labels.
#include <unistd.h>

#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "client/cli/commands.h"
#include "client/cli/confusion_matrix.h"
#include "client/cli/exit_codes.h"
#include "client/cli/flags.h"
#include "client/cli/input_flags.h"
#include "client/cli/interchange_commands.h"
#include "client/cli/json_output.h"
#include "data/fashion_mnist.h"
#include "google/protobuf/struct.pb.h"

namespace bnmlp::cli {
namespace {

using google::protobuf::ListValue;
using google::protobuf::Struct;
using google::protobuf::Value;

absl::StatusOr<std::vector<std::string>> ClassNamesFromFlags(
    int64_t num_classes) {
  std::vector<std::string> names;
  const std::string flag = absl::GetFlag(FLAGS_class_names);
  if (!flag.empty()) {
    names = absl::StrSplit(flag, ',');
  } else if (absl::GetFlag(FLAGS_fashion_mnist)) {
    for (absl::string_view class_name : data::kFashionMnistClassNames) {
      names.emplace_back(class_name);
    }
  }
  if (!names.empty() && static_cast<int64_t>(names.size()) != num_classes) {
    return absl::InvalidArgumentError(
        absl::StrCat("--class_names has ", names.size(),
                     " names, but the model has ", num_classes, " classes"));
  }
  return names;
}

std::string ClassLabel(int32_t c, const std::vector<std::string>& names) {
  const bool named = c >= 0 && static_cast<size_t>(c) < names.size();
  return named ? absl::StrCat(c, " ", names[c]) : absl::StrCat(c);
}

int64_t OutputCount(const v1::ModelInfo& model) {
  return model.layer_sizes().empty()
             ? 0
             : model.layer_sizes(model.layer_sizes_size() - 1);
}

double MeanSquaredError(const client::Prediction& prediction,
                        const data::Examples& examples) {
  double sum = 0;
  for (size_t i = 0; i < prediction.outputs.size(); ++i) {
    const double diff = double{prediction.outputs[i]} - examples.targets[i];
    sum += diff * diff;
  }
  return prediction.outputs.empty() ? 0.0 : sum / prediction.outputs.size();
}

Value NumberValue(double number) {
  Value value;
  value.set_number_value(number);
  return value;
}

// A 64-bit integer of the API (a version, a tensor dimension) as proto3 JSON
// writes it, and as `bnmlp list --json` and `params --json` show it: a
// string, since JSON numbers lose precision beyond 2^53.
Value Int64Value(int64_t number) {
  Value value;
  value.set_string_value(absl::StrCat(number));
  return value;
}

template <typename Numbers>
Value ListOfNumbers(const Numbers& numbers) {
  Value value;
  ListValue* list = value.mutable_list_value();
  for (const auto n : numbers) *list->add_values() = NumberValue(n);
  return value;
}

// What predict prints, before choosing text or JSON.
struct PredictReport {
  std::string model;
  client::Prediction prediction;
  std::vector<int32_t> labels;  // Empty: the input had none.
  std::optional<ConfusionMatrix> confusion;
  std::optional<double> mean_squared_error;
  std::vector<std::string> class_names;
};

void PrintJson(const PredictReport& report, bool rows, bool probabilities) {
  Struct root;
  auto& fields = *root.mutable_fields();
  const client::Prediction& p = report.prediction;
  fields["model"].set_string_value(report.model);
  fields["version"] = Int64Value(p.version);
  // Counts of this output's own (rows, the confusion matrix) are numbers.
  fields["rows"] = NumberValue(static_cast<double>(p.num_rows));
  if (rows && !p.classes.empty()) fields["classes"] = ListOfNumbers(p.classes);
  if (rows && (probabilities || p.classes.empty())) {
    Struct outputs;
    // Shaped like the API's Tensor in proto3 JSON: {"shape": ["N", "K"], ...}.
    Value shape;
    *shape.mutable_list_value()->add_values() = Int64Value(p.num_rows);
    *shape.mutable_list_value()->add_values() = Int64Value(p.num_outputs);
    (*outputs.mutable_fields())["shape"] = shape;
    (*outputs.mutable_fields())["values"] = ListOfNumbers(p.outputs);
    *fields["outputs"].mutable_struct_value() = outputs;
  }
  if (report.confusion.has_value()) {
    const ConfusionMatrix& matrix = *report.confusion;
    fields["accuracy"] = NumberValue(matrix.accuracy());
    Value rows_value;
    for (int t = 0; t < matrix.num_classes(); ++t) {
      std::vector<int64_t> row;
      for (int c = 0; c < matrix.num_classes(); ++c) {
        row.push_back(matrix.count(t, c));
      }
      *rows_value.mutable_list_value()->add_values() = ListOfNumbers(row);
    }
    fields["confusionMatrix"] = rows_value;
  }
  if (report.mean_squared_error.has_value()) {
    fields["meanSquaredError"] = NumberValue(*report.mean_squared_error);
  }
  std::cout << ToJson(root) << std::endl;
}

void PrintRows(const PredictReport& report, bool probabilities) {
  const client::Prediction& p = report.prediction;
  const bool classification = !p.classes.empty();
  const bool labelled = !report.labels.empty();
  if (classification) {
    std::cout << absl::StrFormat("%-7s %-16s%s\n", "ROW", "PREDICTED",
                                 labelled ? " TRUE" : "");
  }
  for (int64_t row = 0; row < p.num_rows; ++row) {
    std::string line = absl::StrFormat("%-7d", row);
    if (classification) {
      absl::StrAppend(
          &line, absl::StrFormat(
                     " %-16s", ClassLabel(p.classes[row], report.class_names)));
      if (labelled) {
        absl::StrAppend(&line, " ",
                        ClassLabel(report.labels[row], report.class_names));
      }
    }
    if (probabilities || !classification) {
      const auto first = p.outputs.begin() + row * p.num_outputs;
      absl::StrAppend(&line, "  ",
                      absl::StrJoin(first, first + p.num_outputs, " ",
                                    [](std::string* out, float v) {
                                      absl::StrAppend(
                                          out, absl::StrFormat("%.4g", v));
                                    }));
    }
    std::cout << line << "\n";
  }
}

void PrintText(const PredictReport& report, bool rows, bool probabilities) {
  const client::Prediction& p = report.prediction;
  if (rows) PrintRows(report, probabilities);
  if (report.confusion.has_value()) {
    const ConfusionMatrix& matrix = *report.confusion;
    std::cout << absl::StrFormat(
                     "accuracy %.4f (%d of %d) of model '%s' version %d\n",
                     matrix.accuracy(), matrix.correct(), matrix.total(),
                     report.model, p.version)
              << "confusion matrix (rows: true class, columns: predicted):\n"
              << matrix.Render(report.class_names);
  } else if (report.mean_squared_error.has_value()) {
    std::cout << absl::StrFormat(
        "mean squared error %.6g over %d rows of model '%s' version %d\n",
        *report.mean_squared_error, p.num_rows, report.model, p.version);
  } else if (!rows) {
    std::cout << absl::StrFormat(
        "predicted %d rows with model '%s' version %d\n", p.num_rows,
        report.model, p.version);
  }
  std::cout << std::flush;
}

// With labels: the confusion matrix; with regression targets: the mean
// squared error. INVALID_ARGUMENT naming `source` if they do not fit the
// model's outputs (LoadPredictData checked that before anything was sent,
// so this is the last line of defence, e.g. against a server's classes).
absl::Status AddEvaluation(const DataFiles& source, int64_t num_outputs,
                           data::Examples examples, PredictReport* report) {
  if (!examples.labels.empty()) {
    absl::StatusOr<ConfusionMatrix> matrix =
        ConfusionMatrix::FromPairs(static_cast<int>(num_outputs),
                                   examples.labels, report->prediction.classes);
    if (!matrix.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(source.Describe(), ": ", matrix.status().message()));
    }
    report->confusion = *std::move(matrix);
    report->labels = std::move(examples.labels);
  } else if (!examples.targets.empty()) {
    if (examples.num_targets != num_outputs) {
      return absl::InvalidArgumentError(absl::StrCat(
          source.Describe(), " has ", examples.num_targets,
          " target columns, but the model has ", num_outputs, " outputs"));
    }
    report->mean_squared_error = MeanSquaredError(report->prediction, examples);
  }
  return absl::OkStatus();
}

}  // namespace

int RunPredict(const CommandContext& context) {
  absl::StatusOr<std::string> name_or = NameFromFlags();
  if (!name_or.ok()) return FailUsage(name_or.status().message());
  const std::string& name = *name_or;
  absl::StatusOr<DataFiles> source = PredictSourceFromFlags();
  if (!source.ok()) return FailUsage(source.status().message());
  absl::StatusOr<data::CsvOptions> csv_flags = CsvOptionsFromFlags();
  if (!csv_flags.ok()) return FailUsage(csv_flags.status().message());

  client::BnmlpClient& client = *context.client;
  absl::StatusOr<v1::ModelInfo> model = client.GetModel(name);
  if (!model.ok()) return FailRpc(model.status());
  PredictReport report;
  report.model = name;
  if (client::IsClassification(model->task())) {
    absl::StatusOr<std::vector<std::string>> names =
        ClassNamesFromFlags(OutputCount(*model));
    if (!names.ok()) return FailUsage(names.status().message());
    report.class_names = *std::move(names);
  }
  absl::StatusOr<data::Examples> examples =
      LoadPredictData(*source, *csv_flags, *model);
  if (!examples.ok()) return Fail(kExitInputError, examples.status());

  const bool show_progress = isatty(STDERR_FILENO) != 0;
  absl::StatusOr<client::Prediction> prediction = client.Predict(
      name, examples->features, examples->num_features,
      [show_progress](int64_t done, int64_t total) {
        if (!show_progress) return;
        std::cerr << "\rpredicting: " << done << "/" << total << " rows"
                  << (done == total ? "\n" : "") << std::flush;
      },
      absl::GetFlag(FLAGS_model_version));
  if (!prediction.ok()) return FailRpc(prediction.status());
  if (prediction->mixed_versions) {
    std::cerr << "bnmlp: note: a training run published new versions while "
                 "predicting; the rows were answered by different versions "
                 "(the last was "
              << prediction->version << ")" << std::endl;
  }
  report.prediction = *std::move(prediction);
  if (absl::Status s = AddEvaluation(*source, OutputCount(*model),
                                     *std::move(examples), &report);
      !s.ok()) {
    return Fail(kExitInputError, s);
  }
  const bool rows = !absl::GetFlag(FLAGS_summary);
  const bool probabilities = absl::GetFlag(FLAGS_probabilities);
  if (context.json) {
    PrintJson(report, rows, probabilities);
  } else {
    PrintText(report, rows, probabilities);
  }
  return kExitOk;
}

}  // namespace bnmlp::cli
