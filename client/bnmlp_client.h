// A C++ client for bnmlp.v1.BnMlpService and grpc.health.v1.Health that
// speaks plain vectors and shapes instead of protobuf tensors.
//
//   bnmlp::client::BnmlpClient client("localhost:50051");
//   absl::StatusOr<v1::ModelInfo> info =
//       client.CreateModel("fmnist", {784, 256, 128, 10}, {});
//   absl::StatusOr<Prediction> p = client.Predict("fmnist", features, 784);
//
// Every error is an absl::Status with the RPC's code whose message names the
// RPC, the gRPC code and the server's message (see client/rpc_error.h).
// Options left unset in ModelOptions and TrainOptions take the server's
// documented defaults: the client library has no defaults of its own.
#ifndef BNMLP_CLIENT_BNMLP_CLIENT_H_
#define BNMLP_CLIENT_BNMLP_CLIENT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "bnmlp/v1/bnmlp.grpc.pb.h"
#include "client/call_canceller.h"
#include "client/client_channel.h"
#include "client/tensor_conversion.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace bnmlp::client {

struct ClientOptions {
  // Deadline of every unary call (one per Predict chunk). Train has none:
  // it runs as long as its epochs take, until done or cancelled.
  absl::Duration call_timeout = absl::Seconds(30);
  // Largest message sent or received. 256 MiB fits the 60,000 x 784
  // Fashion-MNIST training set in one TrainRequest.
  int max_message_bytes = 256 * 1024 * 1024;
  // Predict sends at most this many rows per request.
  int64_t predict_rows_per_request = 4096;
  // gRPC load-balancing policy over the addresses a target resolves to
  // ("ipv4:10.0.0.1:50051,10.0.0.2:50051", dns:///name): "pick_first"
  // (gRPC's default: one address, the next on failure) or "round_robin"
  // (call by call over the addresses already connected: it connects to all
  // at once, and calls made before the last connection is up skip it).
  // Empty keeps gRPC's default.
  std::string load_balancing_policy;
  // TLS and the bearer token (client/client_channel.h); default: plaintext,
  // no token.
  ChannelSecurity security;
};

// The architecture options of CreateModel. Every field left unset
// (*_UNSPECIFIED, nullopt) is left out of the request, so the server applies
// its documented default (common/api_defaults.h and the .proto's comments;
// not restated here, so there is one table of them).
struct ModelOptions {
  v1::Task task = v1::TASK_UNSPECIFIED;
  v1::Normalization normalization = v1::NORMALIZATION_UNSPECIFIED;
  v1::Activation activation = v1::ACTIVATION_UNSPECIFIED;
  std::optional<double> batch_norm_momentum;
  std::optional<double> batch_norm_epsilon;
  std::optional<uint64_t> seed;
};

// Whether a model of `task` classifies: TASK_UNSPECIFIED means the
// documented default, classification (the server fills ModelInfo's task in,
// but a client need not rely on that).
inline bool IsClassification(v1::Task task) {
  return task != v1::TASK_REGRESSION;
}

// Borrowed examples: row-major features [num_samples, num_features] plus
// class labels (classification) or row-major targets [num_samples,
// num_targets] (regression). The spans must outlive the call using them.
struct ExamplesView {
  absl::Span<const float> features;
  int64_t num_features = 0;
  absl::Span<const int32_t> labels;
  absl::Span<const float> targets;
  int64_t num_targets = 0;

  int64_t num_samples() const {
    return num_features > 0
               ? static_cast<int64_t>(features.size()) / num_features
               : 0;
  }
};

// TrainRequest's hyperparameters. Every field left unset (nullopt,
// *_UNSPECIFIED) is left out of the request, so the server applies its
// documented default (common/api_defaults.h and the .proto's comments). On
// the wire 0 means "unset" for epochs, batch_size and learning_rate, so
// Train refuses an explicit 0 for them rather than let it silently become
// the default.
struct TrainOptions {
  std::optional<int32_t> epochs;
  std::optional<int32_t> batch_size;
  v1::Optimizer optimizer = v1::OPTIMIZER_UNSPECIFIED;
  std::optional<float> learning_rate;
  v1::LearningRateSchedule learning_rate_schedule =
      v1::LEARNING_RATE_SCHEDULE_UNSPECIFIED;
  std::optional<float> momentum;
  std::optional<bool> nesterov;
  std::optional<float> weight_decay;
  std::optional<uint64_t> shuffle_seed;
  // Continue from the model's latest version with its optimizer state
  // (TrainRequest.resume).
  bool resume = false;
};

// Receives every message of the Train stream (one event each: `progress`
// within an epoch, `epoch_end` once per epoch, `done` last); returning false
// cancels training.
using TrainEventCallback = std::function<bool(const v1::TrainResponse&)>;
// Called after every Predict chunk with the rows answered so far.
using PredictProgressCallback =
    std::function<void(int64_t rows_done, int64_t rows_total)>;

// Called as a model file moves, with the bytes moved so far and the file's
// size (0 while unknown).
using TransferProgressCallback =
    std::function<void(int64_t bytes_done, int64_t bytes_total)>;

// Called after each UploadDataset chunk with the rows sent so far.
using UploadProgressCallback =
    std::function<void(int64_t rows_done, int64_t rows_total)>;

// The most bytes one UploadDataset message carries: gRPC's default message
// limit, which every client and server accepts.
inline constexpr int64_t kDatasetChunkBytes = int64_t{4} << 20;

// A model version as a file (ExportModel).
struct ExportedModelFile {
  std::string bytes;
  int64_t version = 0;
};

struct Prediction {
  int64_t num_rows = 0;
  int64_t num_outputs = 0;
  // Row-major [num_rows, num_outputs]: probabilities or regression values.
  std::vector<float> outputs;
  // Classification only: the argmax of each row.
  std::vector<int32_t> classes;
  // The model version that answered the last chunk; mixed_versions is true
  // if a Train published a new version between chunks.
  int64_t version = 0;
  bool mixed_versions = false;
};

// Thread safety: all methods may be called concurrently (gRPC stubs are
// thread-safe). The channel connects lazily; an unreachable server shows up
// as UNAVAILABLE on the first call, not in the constructor.
class BnmlpClient {
 public:
  explicit BnmlpClient(std::string address, ClientOptions options = {});

  const std::string& address() const { return address_; }

  // The grpc.health.v1 status of `service` ("" = the whole server).
  absl::StatusOr<grpc::health::v1::HealthCheckResponse::ServingStatus> Health(
      const std::string& service = "");

  absl::StatusOr<v1::ModelInfo> CreateModel(
      const std::string& name, absl::Span<const int64_t> layer_sizes,
      const ModelOptions& options);

  // Streams the Train events to `on_event` (may be empty) and returns the
  // final summary (the `done` event's figures). CANCELLED if `on_event`
  // returned false or `canceller` (may be null) was cancelled; the model
  // then keeps the last version it published (GetModel tells which).
  // UNAVAILABLE if the server shut down meanwhile (its message names the
  // version the model keeps). `validation` may be null. INVALID_ARGUMENT,
  // before anything is sent, if the examples are inconsistent or `options`
  // holds a value the request cannot carry (see TrainOptions).
  absl::StatusOr<v1::TrainProgress> Train(const std::string& name,
                                          const ExamplesView& train,
                                          const ExamplesView* validation,
                                          const TrainOptions& options,
                                          const TrainEventCallback& on_event,
                                          CallCanceller* canceller = nullptr);

  // Train on datasets uploaded before (UploadDataset) instead of inline
  // examples; `validation_dataset` may be empty. Otherwise as Train.
  absl::StatusOr<v1::TrainProgress> TrainOnDatasets(
      const std::string& name, const std::string& dataset,
      const std::string& validation_dataset, const TrainOptions& options,
      const TrainEventCallback& on_event, CallCanceller* canceller = nullptr);

  // Uploads `examples` as dataset `name` in messages of at most
  // kDatasetChunkBytes (so a server with gRPC's default 4 MiB limit takes
  // any size), announcing the row count. `on_progress` (may be empty) gets
  // the rows sent so far after each chunk. CANCELLED if `canceller` (may be
  // null) was cancelled: the server then keeps nothing. No deadline: the
  // call takes what the data takes. Defined in client/dataset_transfer.cc.
  absl::StatusOr<v1::DatasetInfo> UploadDataset(
      const std::string& name, const ExamplesView& examples,
      const UploadProgressCallback& on_progress = {},
      CallCanceller* canceller = nullptr);
  absl::StatusOr<std::vector<v1::DatasetInfo>> ListDatasets();
  absl::StatusOr<v1::DatasetInfo> GetDataset(const std::string& name);
  // Returns how many running Train calls still use it.
  absl::StatusOr<int> DeleteDataset(const std::string& name);

  // Evaluation-mode outputs for row-major `features` [N, num_features],
  // sent in chunks of options.predict_rows_per_request rows.
  absl::StatusOr<Prediction> Predict(
      const std::string& name, absl::Span<const float> features,
      int64_t num_features, const PredictProgressCallback& on_progress = {},
      int64_t version = 0);

  // `version` 0: the latest; another: a retained version.
  absl::StatusOr<ModelParameters> GetParameters(const std::string& name,
                                                int64_t version = 0);
  absl::StatusOr<std::vector<v1::ModelInfo>> ListModels();
  absl::StatusOr<v1::ModelInfo> GetModel(const std::string& name);
  // Returns whether a running Train was cancelled by the delete.
  absl::StatusOr<bool> DeleteModel(const std::string& name);

  // Model `name` at `version` (0: the latest) as a file in `format`,
  // checked against the size and CRC-32 the server announces (DATA_LOSS
  // otherwise). Deadline: the call timeout plus 10 minutes (the file's size
  // is not known before it arrives). Defined in client/model_transfer.cc.
  absl::StatusOr<ExportedModelFile> ExportModel(
      const std::string& name, v1::Format format, bool fold_batch_norm,
      int64_t version, const TransferProgressCallback& on_progress = {});
  // Creates model `name` from `file` in `format`, sent in 1 MiB chunks with
  // its size and CRC-32. Deadline: the call timeout plus one second per
  // MiB sent. Defined in client/model_transfer.cc.
  absl::StatusOr<v1::ModelInfo> ImportModel(
      const std::string& name, v1::Format format, absl::string_view file,
      const TransferProgressCallback& on_progress = {});

 private:
  // A context carrying the unary-call deadline.
  std::unique_ptr<grpc::ClientContext> UnaryContext() const;
  absl::Status Check(const grpc::Status& status, absl::string_view rpc) const;
  // Runs one Train call (see Train).
  absl::StatusOr<v1::TrainProgress> StreamTrain(
      const v1::TrainRequest& request, const TrainEventCallback& on_event,
      CallCanceller* canceller);
  // A context whose deadline is `extra` beyond the call timeout.
  std::unique_ptr<grpc::ClientContext> TransferContext(
      absl::Duration extra) const;

  const std::string address_;
  const ClientOptions options_;
  std::unique_ptr<v1::BnMlpService::Stub> stub_;
  std::unique_ptr<grpc::health::v1::Health::Stub> health_stub_;
};

}  // namespace bnmlp::client

#endif  // BNMLP_CLIENT_BNMLP_CLIENT_H_
