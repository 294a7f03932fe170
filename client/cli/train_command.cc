// bnmlp train: load a dataset, stream it to the server's Train, render the
// progress, cancel cleanly on Ctrl-C.
#include <sys/ioctl.h>
#include <unistd.h>

#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "client/cli/commands.h"
#include "client/cli/dataset_commands.h"
#include "client/cli/enum_flag.h"
#include "client/cli/exit_codes.h"
#include "client/cli/flags.h"
#include "client/cli/input_flags.h"
#include "client/cli/json_output.h"
#include "client/cli/progress_bar.h"
#include "client/cli/sigint_watcher.h"
#include "common/api_defaults.h"
#include "common/status_macros.h"

namespace bnmlp::cli {
namespace {

int TerminalWidth() {
  struct winsize size {};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) {
    return size.ws_col;
  }
  return 80;
}

// Zero is "unset" on the wire for these flags; an explicit 0 would silently
// train with the server's default instead, so it is a usage error.
template <typename T>
absl::Status CheckNotZero(absl::string_view flag, const std::optional<T>& value,
                          absl::string_view expected) {
  if (value != T{0}) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("--", flag, "=0: expected ", expected,
                   " (leave the flag out for the server's default)"));
}

// Unset flags stay unset in the options, leaving the choice to the server's
// documented defaults.
absl::StatusOr<client::TrainOptions> TrainOptionsFromFlags(
    const CommandContext& context) {
  client::TrainOptions options;
  options.epochs = absl::GetFlag(FLAGS_epochs);
  BNMLP_RETURN_IF_ERROR(CheckNotZero("epochs", options.epochs, "at least 1"));
  options.batch_size = absl::GetFlag(FLAGS_batch_size);
  BNMLP_RETURN_IF_ERROR(
      CheckNotZero("batch_size", options.batch_size, "at least 2"));
  BNMLP_ASSIGN_OR_RETURN(options.optimizer,
                         ParseOptionalEnumFlag<v1::Optimizer>(
                             "optimizer", absl::GetFlag(FLAGS_optimizer)));
  options.learning_rate = absl::GetFlag(FLAGS_learning_rate);
  BNMLP_RETURN_IF_ERROR(
      CheckNotZero("learning_rate", options.learning_rate, "> 0"));
  BNMLP_ASSIGN_OR_RETURN(options.learning_rate_schedule,
                         ParseOptionalEnumFlag<v1::LearningRateSchedule>(
                             "lr_schedule", absl::GetFlag(FLAGS_lr_schedule)));
  options.momentum = absl::GetFlag(FLAGS_momentum);
  // A bool flag has no "unset" value of its own: given is set.
  if (context.FlagSet("nesterov")) {
    options.nesterov = absl::GetFlag(FLAGS_nesterov);
  }
  options.weight_decay = absl::GetFlag(FLAGS_weight_decay);
  options.shuffle_seed = absl::GetFlag(FLAGS_shuffle_seed);
  options.resume = absl::GetFlag(FLAGS_resume);
  return options;
}

// "epochs 8" / "epochs 1 (server default)": what the run will do, for the
// line printed before the (possibly long) upload.
template <typename T>
std::string Setting(const std::optional<T>& value, T server_default,
                    absl::string_view what) {
  return absl::StrCat(what, " ", value.value_or(server_default),
                      value.has_value() ? "" : " (server default)");
}

double RequestMegabytes(const LoadedTrainData& loaded) {
  const size_t floats =
      loaded.train.features.size() + loaded.train.targets.size() +
      loaded.validation.features.size() + loaded.validation.targets.size();
  return static_cast<double>(floats * sizeof(float)) / (1 << 20);
}

// After a cancel, the server may need a moment to stop at the next batch;
// wait (briefly) until the model no longer reports TRAINING.
absl::StatusOr<v1::ModelInfo> ModelAfterCancel(client::BnmlpClient& client,
                                               const std::string& name) {
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (true) {
    absl::StatusOr<v1::ModelInfo> info = client.GetModel(name);
    if (!info.ok() || info->training_state() != v1::TRAINING_STATE_TRAINING ||
        absl::Now() > give_up) {
      return info;
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
}

int ReportInterrupted(client::BnmlpClient& client, const std::string& name) {
  absl::StatusOr<v1::ModelInfo> info = ModelAfterCancel(client, name);
  if (!info.ok()) {
    std::cerr << "bnmlp: interrupted: training of model '" << name
              << "' was cancelled; its state is unknown: "
              << info.status().message() << std::endl;
  } else {
    std::cerr << "bnmlp: interrupted: training of model '" << name
              << "' was cancelled; the model keeps version " << info->version()
              << " (" << EnumFlagName(info->training_state()) << ")"
              << std::endl;
  }
  return kExitInterrupted;
}

// --dataset / --validation_dataset, checked against the local-file flags
// (a set comes from one place).
absl::Status CheckDatasetFlags(const CommandContext& context) {
  const bool dataset = !absl::GetFlag(FLAGS_dataset).empty();
  if (!absl::GetFlag(FLAGS_validation_dataset).empty() && !dataset) {
    return absl::InvalidArgumentError("--validation_dataset needs --dataset");
  }
  if (!dataset) return absl::OkStatus();
  for (const char* flag :
       {"train_csv", "train_images", "train_labels", "validation_csv",
        "validation_images", "validation_labels", "fashion_mnist", "limit"}) {
    if (context.FlagSet(flag)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--dataset trains on a dataset uploaded before; drop --",
                       flag, " (or drop --dataset to send local files)"));
    }
  }
  return absl::OkStatus();
}

// The datasets `bnmlp train` trains on: the uploaded ones named by
// --dataset, or the local files, uploaded as temporary datasets.
struct TrainingDatasets {
  std::string train;
  std::string validation;  // empty: none
};

// Uploads the loaded local files as temporary datasets (deleted by
// `temporaries`), saying what it sends.
absl::StatusOr<TrainingDatasets> UploadLocalFiles(
    const CommandContext& context, const v1::ModelInfo& model,
    const LoadedTrainData& loaded, const client::TrainOptions& options,
    client::CallCanceller& canceller, TemporaryDatasets& temporaries) {
  const bool has_validation = loaded.validation.num_samples > 0;
  if (!context.json) {
    std::cout << absl::StrFormat(
                     "sending %d training%s samples (%.0f MB) to %s; %s, %s",
                     loaded.train.num_samples,
                     has_validation
                         ? absl::StrFormat(" + %d validation",
                                           loaded.validation.num_samples)
                         : "",
                     RequestMegabytes(loaded), context.client->address(),
                     Setting(options.epochs, api_defaults::kEpochs, "epochs"),
                     Setting(options.batch_size, api_defaults::kBatchSize,
                             "batch size"))
              << std::endl;
  }
  TrainingDatasets datasets;
  datasets.train = temporaries.NewName(model.name(), "train");
  BNMLP_RETURN_IF_ERROR(UploadWithProgress(*context.client, datasets.train,
                                           "training set", loaded.train,
                                           &canceller)
                            .status());
  if (has_validation) {
    datasets.validation = temporaries.NewName(model.name(), "validation");
    BNMLP_RETURN_IF_ERROR(
        UploadWithProgress(*context.client, datasets.validation,
                           "validation set", loaded.validation, &canceller)
            .status());
  }
  return datasets;
}

}  // namespace

int RunTrain(const CommandContext& context) {
  absl::StatusOr<std::string> name_or = NameFromFlags();
  if (!name_or.ok()) return FailUsage(name_or.status().message());
  const std::string& name = *name_or;
  absl::StatusOr<client::TrainOptions> options = TrainOptionsFromFlags(context);
  if (!options.ok()) return FailUsage(options.status().message());
  if (absl::Status flags = CheckDatasetFlags(context); !flags.ok()) {
    return FailUsage(flags.message());
  }
  const bool from_datasets = !absl::GetFlag(FLAGS_dataset).empty();
  std::optional<TrainSources> sources;
  std::optional<data::CsvOptions> csv_flags;
  if (!from_datasets) {
    absl::StatusOr<TrainSources> given = TrainSourcesFromFlags();
    if (!given.ok()) return FailUsage(given.status().message());
    sources = *std::move(given);
    absl::StatusOr<data::CsvOptions> csv = CsvOptionsFromFlags();
    if (!csv.ok()) return FailUsage(csv.status().message());
    csv_flags = *csv;
  }

  // Asking for the model first fails fast on a wrong name or server, before
  // seconds of loading, and tells how to read CSV labels (task).
  client::BnmlpClient& client = *context.client;
  absl::StatusOr<v1::ModelInfo> model = client.GetModel(name);
  if (!model.ok()) return FailRpc(model.status());
  const bool classification = client::IsClassification(model->task());
  std::optional<LoadedTrainData> loaded;
  if (!from_datasets) {
    absl::StatusOr<LoadedTrainData> read =
        LoadTrainData(*sources, *csv_flags, *model);
    if (!read.ok()) return Fail(kExitInputError, read.status());
    loaded = *std::move(read);
  }

  client::CallCanceller canceller;
  std::unique_ptr<SigintWatcher> sigint_watcher;
  if (auto started = SigintWatcher::Start([&] { canceller.Cancel(); });
      started.ok()) {
    sigint_watcher = *std::move(started);
  } else {
    // Training still works; Ctrl-C then just ends bnmlp (and the call).
    std::cerr << "bnmlp: warning: Ctrl-C will not cancel cleanly: "
              << started.status().message() << std::endl;
  }
  // Local files go up as temporary datasets, in chunks any server accepts,
  // and are deleted when training ends, however it ends.
  TemporaryDatasets temporaries(&client);
  TrainingDatasets datasets{absl::GetFlag(FLAGS_dataset),
                            absl::GetFlag(FLAGS_validation_dataset)};
  if (!from_datasets) {
    absl::StatusOr<TrainingDatasets> uploaded = UploadLocalFiles(
        context, *model, *loaded, *options, canceller, temporaries);
    loaded.reset();  // The server has the rows now.
    if (!uploaded.ok()) {
      if (canceller.cancelled() && absl::IsCancelled(uploaded.status())) {
        std::cerr << "bnmlp: interrupted: the upload was cancelled; model '"
                  << name << "' was not trained" << std::endl;
        return kExitInterrupted;
      }
      return FailRpc(uploaded.status());
    }
    datasets = *std::move(uploaded);
  } else if (!context.json) {
    std::cout
        << "training model '" << name << "' on dataset '" << datasets.train
        << "'"
        << (datasets.validation.empty()
                ? ""
                : absl::StrCat(", validating on '", datasets.validation, "'"))
        << "; " << Setting(options->epochs, api_defaults::kEpochs, "epochs")
        << ", "
        << Setting(options->batch_size, api_defaults::kBatchSize, "batch size")
        << std::endl;
  }

  ProgressPrinter printer(&std::cout, isatty(STDOUT_FILENO) != 0,
                          classification, TerminalWidth());
  // --json: every TrainResponse as it comes, one per line, so that
  // `jq 'select(.epochEnd)'` sees each epoch once and `select(.done)` the
  // summary.
  auto on_event = [&](const v1::TrainResponse& event) {
    if (context.json) {
      std::cout << ToJson(event) << std::endl;
    } else {
      printer.Update(event);
    }
    return true;
  };
  absl::StatusOr<v1::TrainProgress> summary =
      client.TrainOnDatasets(name, datasets.train, datasets.validation,
                             *options, on_event, &canceller);
  printer.Interrupt();
  sigint_watcher.reset();  // Ctrl-C from here on ends bnmlp the usual way.
  if (!summary.ok()) {
    if (canceller.cancelled() && absl::IsCancelled(summary.status())) {
      return ReportInterrupted(client, name);
    }
    return FailRpc(summary.status());
  }
  if (!context.json) {
    std::cout << FormatTrainingSummary(*summary, classification) << std::endl;
  }
  return kExitOk;
}

}  // namespace bnmlp::cli
