// bnmlp upload, bnmlp datasets, bnmlp delete-dataset, and the uploads
// `bnmlp train` makes: datasets on the server (UploadDataset and friends).
#ifndef BNMLP_CLIENT_CLI_DATASET_COMMANDS_H_
#define BNMLP_CLIENT_CLI_DATASET_COMMANDS_H_

#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/status/statusor.h"
#include "bnmlp/v1/bnmlp.pb.h"
#include "client/bnmlp_client.h"
#include "client/call_canceller.h"
#include "client/cli/commands.h"
#include "data/examples.h"

ABSL_DECLARE_FLAG(std::string, dataset);
ABSL_DECLARE_FLAG(std::string, validation_dataset);

namespace bnmlp::cli {

int RunUpload(const CommandContext& context);
int RunDatasets(const CommandContext& context);
int RunDeleteDataset(const CommandContext& context);

// Uploads `examples` as dataset `name`, drawing UploadProgress on stderr
// (labelled `what`). `canceller` (may be null) cancels it.
absl::StatusOr<v1::DatasetInfo> UploadWithProgress(
    client::BnmlpClient& client, const std::string& name,
    const std::string& what, const data::Examples& examples,
    client::CallCanceller* canceller);

// "dataset 'fmnist': 60000 rows x 784 features, class labels (10 classes),
// 179.7 MiB, crc32:0123abcd".
std::string FormatDatasetInfo(const v1::DatasetInfo& info);

// Datasets uploaded for one `bnmlp train` run from local files, deleted
// from the server when this goes out of scope (also after an error or
// Ctrl-C). Not thread-safe.
class TemporaryDatasets {
 public:
  explicit TemporaryDatasets(client::BnmlpClient* client) : client_(client) {}
  TemporaryDatasets(const TemporaryDatasets&) = delete;
  TemporaryDatasets& operator=(const TemporaryDatasets&) = delete;
  ~TemporaryDatasets();

  // A fresh name for a temporary dataset of `model` ("tmp-<model
  // prefix>-<random>-<part>"), registered for deletion.
  std::string NewName(const std::string& model, const std::string& part);

 private:
  client::BnmlpClient* const client_;
  std::vector<std::string> names_;
};

}  // namespace bnmlp::cli

#endif  // BNMLP_CLIENT_CLI_DATASET_COMMANDS_H_
