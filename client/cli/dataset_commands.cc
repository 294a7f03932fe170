#include "client/cli/dataset_commands.h"

#include <unistd.h>

#include <iostream>
#include <memory>
#include <random>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/cli/exit_codes.h"
#include "client/cli/flags.h"
#include "client/cli/input_flags.h"
#include "client/cli/json_output.h"
#include "client/cli/sigint_watcher.h"
#include "client/cli/upload_progress.h"
#include "common/status_macros.h"
#include "data/fashion_mnist.h"

ABSL_FLAG(std::string, dataset, "",
          "Train on this dataset, uploaded before with `bnmlp upload`, "
          "instead of local files.");
ABSL_FLAG(std::string, validation_dataset, "",
          "Validate on this uploaded dataset after every epoch (needs "
          "--dataset).");

namespace bnmlp::cli {
namespace {

constexpr double kMiB = 1 << 20;

// --csv FILE, --images FILE --labels FILE, --fashion_mnist (its training
// images), or CSV on stdin when none is given and stdin is not a terminal.
absl::StatusOr<DataFiles> UploadSourceFromFlags() {
  DataFiles files{absl::GetFlag(FLAGS_csv), absl::GetFlag(FLAGS_images),
                  absl::GetFlag(FLAGS_labels)};
  if (absl::GetFlag(FLAGS_fashion_mnist)) {
    if (!files.empty()) {
      return absl::InvalidArgumentError(
          "--fashion_mnist uploads the Fashion-MNIST training set; drop "
          "--csv, --images and --labels");
    }
    const data::FashionMnistFiles train =
        data::FashionMnistPaths(data::FashionMnistSplit::kTrain,
                                absl::GetFlag(FLAGS_fashion_mnist_dir));
    return DataFiles{"", train.images, train.labels};
  }
  if (!files.csv.empty() && !files.images.empty()) {
    return absl::InvalidArgumentError(
        "give either --csv or --images, not both");
  }
  if (!files.images.empty() && files.labels.empty()) {
    return absl::InvalidArgumentError("--images needs --labels");
  }
  if (files.empty()) {
    if (isatty(STDIN_FILENO)) {
      return absl::InvalidArgumentError(
          "no input: give --csv FILE, --images FILE --labels FILE, "
          "--fashion_mnist, or pipe CSV rows into stdin");
    }
    files.csv = "-";
  }
  return files;
}

int64_t BytesPerRow(const data::Examples& examples) {
  return 4 * (examples.num_features +
              (examples.labels.empty() ? examples.num_targets : 1));
}

std::string TargetsText(const v1::DatasetInfo& info) {
  if (info.target_kind() == v1::TARGET_KIND_CLASS_LABELS) {
    return absl::StrCat("class labels (", info.classes(), " classes)");
  }
  return absl::StrCat(info.target_width(), " target values per row");
}

}  // namespace

std::string FormatDatasetInfo(const v1::DatasetInfo& info) {
  return absl::StrFormat(
      "dataset '%s': %d rows x %d features, %s, %.1f MiB, %s", info.name(),
      info.rows(), info.features(), TargetsText(info),
      static_cast<double>(info.bytes()) / kMiB, info.content_checksum());
}

absl::StatusOr<v1::DatasetInfo> UploadWithProgress(
    client::BnmlpClient& client, const std::string& name,
    const std::string& what, const data::Examples& examples,
    client::CallCanceller* canceller) {
  client::ExamplesView view;
  view.features = examples.features;
  view.num_features = examples.num_features;
  view.labels = examples.labels;
  view.targets = examples.targets;
  view.num_targets = examples.num_targets;
  UploadProgress progress(&std::cerr, isatty(STDERR_FILENO) != 0,
                          absl::StrCat("uploading ", what),
                          BytesPerRow(examples), 100);
  absl::StatusOr<v1::DatasetInfo> info = client.UploadDataset(
      name, view,
      [&progress](int64_t done, int64_t total) {
        progress.Update(done, total);
      },
      canceller);
  progress.Finish();
  return info;
}

int RunUpload(const CommandContext& context) {
  absl::StatusOr<std::string> name = NameFromFlags();
  if (!name.ok()) return FailUsage(name.status().message());
  absl::StatusOr<DataFiles> files = UploadSourceFromFlags();
  if (!files.ok()) return FailUsage(files.status().message());
  absl::StatusOr<data::CsvOptions> csv_flags = CsvOptionsFromFlags();
  if (!csv_flags.ok()) return FailUsage(csv_flags.status().message());
  const std::string task = absl::GetFlag(FLAGS_task);
  if (!task.empty() && task != "classification" && task != "regression") {
    return FailUsage(absl::StrCat("--task='", task,
                                  "': expected classification or regression"));
  }
  absl::StatusOr<data::Examples> examples =
      LoadUploadData(*files, *csv_flags, task != "regression");
  if (!examples.ok()) return Fail(kExitInputError, examples.status());

  client::CallCanceller canceller;
  std::unique_ptr<SigintWatcher> watcher;
  if (auto started = SigintWatcher::Start([&] { canceller.Cancel(); });
      started.ok()) {
    watcher = *std::move(started);
  }
  absl::StatusOr<v1::DatasetInfo> info =
      UploadWithProgress(*context.client, *name, absl::StrCat("'", *name, "'"),
                         *examples, &canceller);
  watcher.reset();  // Ctrl-C ends bnmlp the usual way again.
  if (!info.ok()) {
    if (canceller.cancelled() && absl::IsCancelled(info.status())) {
      std::cerr << "bnmlp: interrupted: the upload of dataset '" << *name
                << "' was cancelled; the server kept nothing" << std::endl;
      return kExitInterrupted;
    }
    return FailRpc(info.status());
  }
  if (context.json) {
    std::cout << ToJson(*info) << std::endl;
  } else {
    std::cout << "uploaded " << FormatDatasetInfo(*info) << std::endl;
  }
  return kExitOk;
}

int RunDatasets(const CommandContext& context) {
  absl::StatusOr<std::vector<v1::DatasetInfo>> datasets =
      context.client->ListDatasets();
  if (!datasets.ok()) return FailRpc(datasets.status());
  if (context.json) {
    v1::ListDatasetsResponse response;
    response.mutable_datasets()->Add(datasets->begin(), datasets->end());
    std::cout << ToJson(response) << std::endl;
    return kExitOk;
  }
  if (datasets->empty()) {
    std::cout << "no datasets" << std::endl;
    return kExitOk;
  }
  std::cout << absl::StrFormat("%-24s %10s %8s %-22s %10s %-14s %s\n", "NAME",
                               "ROWS", "FEATURES", "TARGETS", "MIB", "CHECKSUM",
                               "TRAININGS");
  for (const v1::DatasetInfo& info : *datasets) {
    std::cout << absl::StrFormat(
        "%-24s %10d %8d %-22s %10.1f %-14s %d\n", info.name(), info.rows(),
        info.features(),
        info.target_kind() == v1::TARGET_KIND_CLASS_LABELS
            ? absl::StrCat(info.classes(), " classes")
            : absl::StrCat(info.target_width(), " targets"),
        static_cast<double>(info.bytes()) / kMiB, info.content_checksum(),
        info.trainings_using());
  }
  std::cout << std::flush;
  return kExitOk;
}

int RunDeleteDataset(const CommandContext& context) {
  absl::StatusOr<std::string> name = NameFromFlags();
  if (!name.ok()) return FailUsage(name.status().message());
  absl::StatusOr<int> using_it = context.client->DeleteDataset(*name);
  if (!using_it.ok()) return FailRpc(using_it.status());
  if (context.json) {
    v1::DeleteDatasetResponse response;
    response.set_trainings_using(*using_it);
    std::cout << ToJson(response) << std::endl;
  } else {
    std::cout << "deleted dataset '" << *name << "'"
              << (*using_it > 0
                      ? absl::StrCat(" (", *using_it,
                                     " running training(s) keep it until "
                                     "they end)")
                      : "")
              << std::endl;
  }
  return kExitOk;
}

TemporaryDatasets::~TemporaryDatasets() {
  for (const std::string& name : names_) {
    // Best effort: a dataset that was never created is NOT_FOUND.
    (void)client_->DeleteDataset(name);
  }
}

std::string TemporaryDatasets::NewName(const std::string& model,
                                       const std::string& part) {
  std::random_device random;
  std::string name =
      absl::StrFormat("tmp-%s-%08x-%s", model.substr(0, 32), random(), part);
  names_.push_back(name);
  return name;
}

}  // namespace bnmlp::cli
