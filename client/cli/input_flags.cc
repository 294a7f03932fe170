#include "client/cli/input_flags.h"

#include <unistd.h>

#include <functional>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "client/bnmlp_client.h"
#include "client/cli/flags.h"
#include "common/status_macros.h"
#include "data/fashion_mnist.h"

namespace bnmlp::cli {
namespace {

absl::StatusOr<std::vector<int>> ParseColumnList(absl::string_view text) {
  std::vector<int> columns;
  if (text.empty()) return columns;
  for (absl::string_view entry : absl::StrSplit(text, ',')) {
    int column = 0;
    if (!absl::SimpleAtoi(entry, &column)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--csv_target_columns='", text, "': '", entry,
                       "' is not a column number; expected e.g. 4,5 or -1"));
    }
    columns.push_back(column);
  }
  return columns;
}

absl::StatusOr<data::CsvHeader> ParseCsvHeader(absl::string_view text) {
  if (text == "auto") return data::CsvHeader::kAuto;
  if (text == "present") return data::CsvHeader::kPresent;
  if (text == "absent") return data::CsvHeader::kAbsent;
  return absl::InvalidArgumentError(absl::StrCat(
      "--csv_header='", text, "': expected auto, present or absent"));
}

absl::StatusOr<char> ParseDelimiter(absl::string_view text) {
  if (text == "\\t" || text == "tab") return '\t';
  if (text.size() == 1) return text[0];
  return absl::InvalidArgumentError(absl::StrCat(
      "--csv_delimiter='", text, "': expected one character, or tab"));
}

// A source named by one CSV flag or an IDX images + labels flag pair.
absl::StatusOr<DataFiles> FilesFromFlags(absl::string_view prefix,
                                         const std::string& csv,
                                         const std::string& images,
                                         const std::string& labels) {
  if (!csv.empty() && !images.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "give either --", prefix, "csv or --", prefix, "images, not both"));
  }
  if (!labels.empty() && images.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", prefix, "labels needs --", prefix, "images"));
  }
  return DataFiles{csv, images, labels};
}

absl::StatusOr<data::Examples> LoadWithReport(
    absl::string_view what, const DataFiles& files,
    const std::function<absl::StatusOr<data::Examples>()>& load) {
  std::cerr << "loading " << what << " from " << files.Describe() << " ..."
            << std::endl;
  const absl::Time start = absl::Now();
  absl::StatusOr<data::Examples> examples = load();
  if (!examples.ok()) {
    if (absl::GetFlag(FLAGS_fashion_mnist) &&
        absl::IsNotFound(examples.status())) {
      return absl::NotFoundError(absl::StrCat(
          examples.status().message(),
          " (install Debian's dataset-fashion-mnist package or set "
          "--fashion_mnist_dir)"));
    }
    return examples.status();
  }
  KeepFirstSamples(absl::GetFlag(FLAGS_limit), &*examples);
  std::cerr << absl::StrFormat("  %d samples x %d features (%.1f s)",
                               examples->num_samples, examples->num_features,
                               absl::ToDoubleSeconds(absl::Now() - start))
            << std::endl;
  return examples;
}

ModelShape ShapeOf(const v1::ModelInfo& model) {
  ModelShape shape;
  shape.name = model.name();
  if (!model.layer_sizes().empty()) {
    shape.inputs = model.layer_sizes(0);
    shape.outputs = model.layer_sizes(model.layer_sizes_size() - 1);
  }
  shape.classification = client::IsClassification(model.task());
  return shape;
}

// The reader's options for a model of `task`: labels or targets.
data::CsvOptions ForTask(data::CsvOptions options, v1::Task task) {
  if (!client::IsClassification(task)) {
    options.task = data::CsvTask::kRegression;
  } else {
    options.task = data::CsvTask::kClassification;
    options.target_columns.clear();
  }
  return options;
}

}  // namespace

absl::StatusOr<data::CsvOptions> CsvOptionsFromFlags() {
  data::CsvOptions options;
  options.label_column = absl::GetFlag(FLAGS_csv_label_column);
  BNMLP_ASSIGN_OR_RETURN(
      options.target_columns,
      ParseColumnList(absl::GetFlag(FLAGS_csv_target_columns)));
  BNMLP_ASSIGN_OR_RETURN(options.header,
                         ParseCsvHeader(absl::GetFlag(FLAGS_csv_header)));
  BNMLP_ASSIGN_OR_RETURN(options.delimiter,
                         ParseDelimiter(absl::GetFlag(FLAGS_csv_delimiter)));
  options.feature_scale = absl::GetFlag(FLAGS_csv_feature_scale);
  return options;
}

absl::StatusOr<TrainSources> TrainSourcesFromFlags() {
  TrainSources sources;
  BNMLP_ASSIGN_OR_RETURN(
      const DataFiles train,
      FilesFromFlags("train_", absl::GetFlag(FLAGS_train_csv),
                     absl::GetFlag(FLAGS_train_images),
                     absl::GetFlag(FLAGS_train_labels)));
  BNMLP_ASSIGN_OR_RETURN(
      const DataFiles validation,
      FilesFromFlags("validation_", absl::GetFlag(FLAGS_validation_csv),
                     absl::GetFlag(FLAGS_validation_images),
                     absl::GetFlag(FLAGS_validation_labels)));
  if (absl::GetFlag(FLAGS_fashion_mnist)) {
    if (!train.empty() || !validation.empty()) {
      return absl::InvalidArgumentError(
          "--fashion_mnist brings its own training and validation sets; drop "
          "the --train_* and --validation_* flags");
    }
    const std::string dir = absl::GetFlag(FLAGS_fashion_mnist_dir);
    const data::FashionMnistFiles train_files =
        data::FashionMnistPaths(data::FashionMnistSplit::kTrain, dir);
    const data::FashionMnistFiles test_files =
        data::FashionMnistPaths(data::FashionMnistSplit::kTest, dir);
    sources.train = {"", train_files.images, train_files.labels};
    sources.validation = {"", test_files.images, test_files.labels};
    return sources;
  }
  if (train.empty()) {
    return absl::InvalidArgumentError(
        "no training data: give --train_csv, --train_images with "
        "--train_labels, or --fashion_mnist");
  }
  if (!train.images.empty() && train.labels.empty()) {
    return absl::InvalidArgumentError("--train_images needs --train_labels");
  }
  if (!validation.images.empty() && validation.labels.empty()) {
    return absl::InvalidArgumentError(
        "--validation_images needs --validation_labels");
  }
  sources.train = train;
  sources.validation = validation;
  return sources;
}

absl::StatusOr<LoadedTrainData> LoadTrainData(const TrainSources& sources,
                                              const data::CsvOptions& csv_flags,
                                              const v1::ModelInfo& model) {
  const data::CsvOptions csv_options = ForTask(csv_flags, model.task());
  LoadedTrainData loaded;
  const struct {
    const char* what;
    const DataFiles* files;
    data::Examples* out;
  } parts[] = {{"training set", &sources.train, &loaded.train},
               {"validation set", &sources.validation, &loaded.validation}};
  for (const auto& part : parts) {
    if (part.files->empty()) continue;
    BNMLP_ASSIGN_OR_RETURN(
        *part.out, LoadWithReport(part.what, *part.files, [&] {
          return LoadTrainingExamples(*part.files, csv_options);
        }));
    BNMLP_RETURN_IF_ERROR(
        CheckExamplesFitModel(*part.out, *part.files, ShapeOf(model)));
  }
  return loaded;
}

absl::StatusOr<data::Examples> LoadUploadData(const DataFiles& files,
                                              const data::CsvOptions& csv_flags,
                                              bool classification) {
  const data::CsvOptions csv_options =
      ForTask(csv_flags,
              classification ? v1::TASK_CLASSIFICATION : v1::TASK_REGRESSION);
  return LoadWithReport("dataset", files, [&] {
    return LoadTrainingExamples(files, csv_options);
  });
}

absl::StatusOr<DataFiles> PredictSourceFromFlags() {
  BNMLP_ASSIGN_OR_RETURN(
      DataFiles files,
      FilesFromFlags("", absl::GetFlag(FLAGS_csv), absl::GetFlag(FLAGS_images),
                     absl::GetFlag(FLAGS_labels)));
  if (absl::GetFlag(FLAGS_fashion_mnist)) {
    if (!files.empty()) {
      return absl::InvalidArgumentError(
          "--fashion_mnist predicts the Fashion-MNIST test images; drop "
          "--csv, --images and --labels");
    }
    const data::FashionMnistFiles test = data::FashionMnistPaths(
        data::FashionMnistSplit::kTest, absl::GetFlag(FLAGS_fashion_mnist_dir));
    return DataFiles{"", test.images, test.labels};
  }
  if (files.empty()) {
    if (isatty(STDIN_FILENO)) {
      return absl::InvalidArgumentError(
          "no input: give --csv FILE, --images FILE [--labels FILE], "
          "--fashion_mnist, or pipe CSV rows into stdin");
    }
    files.csv = "-";
  }
  return files;
}

absl::StatusOr<data::Examples> LoadPredictData(
    const DataFiles& source, const data::CsvOptions& csv_flags,
    const v1::ModelInfo& model) {
  const data::CsvOptions csv_options = ForTask(csv_flags, model.task());
  const ModelShape shape = ShapeOf(model);
  BNMLP_ASSIGN_OR_RETURN(
      data::Examples examples, LoadWithReport("input", source, [&] {
        return LoadPredictionExamples(source, csv_options, shape.inputs);
      }));
  BNMLP_RETURN_IF_ERROR(CheckExamplesFitModel(examples, source, shape));
  return examples;
}

}  // namespace bnmlp::cli
