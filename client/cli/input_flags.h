// From the data flags of `bnmlp train` / `bnmlp predict` to loaded
// examples: which files, how to read CSV, Fashion-MNIST shortcuts, --limit,
// and a check that the data fits the model (CheckExamplesFitModel) before
// anything is sent. Loading prints what it reads
// to stderr (it can take seconds).
#ifndef BNMLP_CLIENT_CLI_INPUT_FLAGS_H_
#define BNMLP_CLIENT_CLI_INPUT_FLAGS_H_

#include "absl/status/statusor.h"
#include "bnmlp/v1/bnmlp.pb.h"
#include "client/cli/dataset_loading.h"
#include "data/csv_reader.h"
#include "data/examples.h"

namespace bnmlp::cli {

// The --csv_* flags as reader options (task-independent: the loaders below
// pick labels or targets by the model's task). INVALID_ARGUMENT naming the
// flag on a bad value.
absl::StatusOr<data::CsvOptions> CsvOptionsFromFlags();

struct TrainSources {
  DataFiles train;
  DataFiles validation;  // empty(): no validation set
};

// --fashion_mnist, or --train_csv / --train_images + --train_labels and the
// optional --validation_* flags. INVALID_ARGUMENT (a usage error) if none or
// several sources are given, or IDX images lack their labels.
absl::StatusOr<TrainSources> TrainSourcesFromFlags();

struct LoadedTrainData {
  data::Examples train;
  data::Examples validation;  // num_samples == 0: none
};

// Loads the sources for `model` (CSV labels or targets per its task), keeps
// --limit samples of each, and checks that they fit the model: feature
// count, label classes, target columns. Errors name the file (and for a
// label out of range the data row and the model's class count).
absl::StatusOr<LoadedTrainData> LoadTrainData(const TrainSources& sources,
                                              const data::CsvOptions& csv_flags,
                                              const v1::ModelInfo& model);

// Loads a dataset to upload (labels required): CSV labels when
// `classification`, CSV target columns otherwise; keeps --limit samples.
absl::StatusOr<data::Examples> LoadUploadData(const DataFiles& files,
                                              const data::CsvOptions& csv_flags,
                                              bool classification);

// --fashion_mnist (the test split), --csv, --images [+ --labels], or CSV on
// stdin when none is given and stdin is not a terminal.
absl::StatusOr<DataFiles> PredictSourceFromFlags();

// Loads the examples to predict (labels optional) for `model`, keeping
// --limit samples, and checks that they fit it as LoadTrainData does.
absl::StatusOr<data::Examples> LoadPredictData(
    const DataFiles& source, const data::CsvOptions& csv_flags,
    const v1::ModelInfo& model);

}  // namespace bnmlp::cli

#endif  // BNMLP_CLIENT_CLI_INPUT_FLAGS_H_
