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
#include "client/cli/flags.h"
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

absl::Status CheckFeatureCount(const data::Examples& examples,
                               const DataFiles& files,
                               const v1::ModelInfo& model) {
  const int64_t inputs = model.layer_sizes().empty() ? 0 : model.layer_sizes(0);
  if (examples.num_features == inputs) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(files.Describe(), " has ", examples.num_features,
                   " features per sample, but model '", model.name(),
                   "' takes ", inputs, " inputs"));
}

// The reader's options for a model of `task`: labels or targets.
data::CsvOptions ForTask(data::CsvOptions options, v1::Task task) {
  if (task == v1::REGRESSION) {
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
  absl::StatusOr<std::vector<int>> targets =
      ParseColumnList(absl::GetFlag(FLAGS_csv_target_columns));
  if (!targets.ok()) return targets.status();
  options.target_columns = *std::move(targets);
  absl::StatusOr<data::CsvHeader> header =
      ParseCsvHeader(absl::GetFlag(FLAGS_csv_header));
  if (!header.ok()) return header.status();
  options.header = *header;
  absl::StatusOr<char> delimiter =
      ParseDelimiter(absl::GetFlag(FLAGS_csv_delimiter));
  if (!delimiter.ok()) return delimiter.status();
  options.delimiter = *delimiter;
  options.feature_scale = absl::GetFlag(FLAGS_csv_feature_scale);
  return options;
}

absl::StatusOr<TrainSources> TrainSourcesFromFlags() {
  TrainSources sources;
  absl::StatusOr<DataFiles> train = FilesFromFlags(
      "train_", absl::GetFlag(FLAGS_train_csv),
      absl::GetFlag(FLAGS_train_images), absl::GetFlag(FLAGS_train_labels));
  if (!train.ok()) return train.status();
  absl::StatusOr<DataFiles> validation =
      FilesFromFlags("validation_", absl::GetFlag(FLAGS_validation_csv),
                     absl::GetFlag(FLAGS_validation_images),
                     absl::GetFlag(FLAGS_validation_labels));
  if (!validation.ok()) return validation.status();
  if (absl::GetFlag(FLAGS_fashion_mnist)) {
    if (!train->empty() || !validation->empty()) {
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
  if (train->empty()) {
    return absl::InvalidArgumentError(
        "no training data: give --train_csv, --train_images with "
        "--train_labels, or --fashion_mnist");
  }
  if (!train->images.empty() && train->labels.empty()) {
    return absl::InvalidArgumentError("--train_images needs --train_labels");
  }
  if (!validation->images.empty() && validation->labels.empty()) {
    return absl::InvalidArgumentError(
        "--validation_images needs --validation_labels");
  }
  sources.train = *std::move(train);
  sources.validation = *std::move(validation);
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
    absl::StatusOr<data::Examples> examples = LoadWithReport(
        part.what, *part.files,
        [&] { return LoadTrainingExamples(*part.files, csv_options); });
    if (!examples.ok()) return examples.status();
    if (absl::Status s = CheckFeatureCount(*examples, *part.files, model);
        !s.ok()) {
      return s;
    }
    *part.out = *std::move(examples);
  }
  return loaded;
}

absl::StatusOr<DataFiles> PredictSourceFromFlags() {
  absl::StatusOr<DataFiles> files =
      FilesFromFlags("", absl::GetFlag(FLAGS_csv), absl::GetFlag(FLAGS_images),
                     absl::GetFlag(FLAGS_labels));
  if (!files.ok()) return files.status();
  if (absl::GetFlag(FLAGS_fashion_mnist)) {
    if (!files->empty()) {
      return absl::InvalidArgumentError(
          "--fashion_mnist predicts the Fashion-MNIST test images; drop "
          "--csv, --images and --labels");
    }
    const data::FashionMnistFiles test = data::FashionMnistPaths(
        data::FashionMnistSplit::kTest, absl::GetFlag(FLAGS_fashion_mnist_dir));
    return DataFiles{"", test.images, test.labels};
  }
  if (files->empty()) {
    if (isatty(STDIN_FILENO)) {
      return absl::InvalidArgumentError(
          "no input: give --csv FILE, --images FILE [--labels FILE], "
          "--fashion_mnist, or pipe CSV rows into stdin");
    }
    files->csv = "-";
  }
  return files;
}

absl::StatusOr<data::Examples> LoadPredictData(
    const DataFiles& source, const data::CsvOptions& csv_flags,
    const v1::ModelInfo& model) {
  const data::CsvOptions csv_options = ForTask(csv_flags, model.task());
  const int64_t inputs = model.layer_sizes().empty() ? 0 : model.layer_sizes(0);
  absl::StatusOr<data::Examples> examples = LoadWithReport(
      "input", source,
      [&] { return LoadPredictionExamples(source, csv_options, inputs); });
  if (!examples.ok()) return examples.status();
  if (absl::Status s = CheckFeatureCount(*examples, source, model); !s.ok()) {
    return s;
  }
  return examples;
}

}  // namespace bnmlp::cli
