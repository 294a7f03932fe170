// BnmlpClient's datasets: UploadDataset in messages of at most
// kDatasetChunkBytes, and ListDatasets / GetDataset / DeleteDataset.
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/bnmlp_client.h"
#include "common/status_macros.h"

namespace bnmlp::client {
namespace {

// Room left in each message for tags, lengths and the shape.
constexpr int64_t kMessageOverhead = int64_t{64} << 10;

// Rows per chunk so a message stays within kDatasetChunkBytes: 4 bytes per
// float, at most 10 bytes per varint label (a negative one; the server
// refuses it, but the message must still fit).
int64_t RowsPerChunk(const ExamplesView& examples) {
  const int64_t row_bytes =
      examples.num_features * 4 +
      (examples.labels.empty() ? examples.num_targets * 4 : 10);
  return std::max<int64_t>(1,
                           (kDatasetChunkBytes - kMessageOverhead) / row_bytes);
}

absl::Status CheckUploadable(const ExamplesView& examples) {
  const auto values = static_cast<int64_t>(examples.features.size());
  if (examples.num_features <= 0 || values == 0 ||
      values % examples.num_features != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "UploadDataset: ", values,
        " feature values are not a non-empty multiple of num_features = ",
        examples.num_features));
  }
  const int64_t n = examples.num_samples();
  const bool labels = !examples.labels.empty();
  if (labels == !examples.targets.empty() ||
      (labels && static_cast<int64_t>(examples.labels.size()) != n) ||
      (!labels && (examples.num_targets <= 0 ||
                   static_cast<int64_t>(examples.targets.size()) !=
                       n * examples.num_targets))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "UploadDataset: ", n,
        " rows need either one label each or num_targets values each"));
  }
  return absl::OkStatus();
}

void SetValues(absl::Span<const float> values, int64_t rows, int64_t width,
               v1::Tensor* tensor) {
  tensor->clear_shape();
  tensor->add_shape(rows);
  tensor->add_shape(width);
  google::protobuf::RepeatedField<float>* field = tensor->mutable_values();
  field->Resize(static_cast<int>(values.size()), 0.0f);
  std::memcpy(field->mutable_data(), values.data(),
              values.size() * sizeof(float));
}

}  // namespace

absl::StatusOr<v1::DatasetInfo> BnmlpClient::UploadDataset(
    const std::string& name, const ExamplesView& examples,
    const UploadProgressCallback& on_progress, CallCanceller* canceller) {
  BNMLP_RETURN_IF_ERROR(CheckUploadable(examples));
  const int64_t rows = examples.num_samples();
  const bool labels = !examples.labels.empty();
  grpc::ClientContext context;  // No deadline: the data takes what it takes.
  CallCanceller::Binding binding(canceller, &context);
  v1::UploadDatasetResponse response;
  std::unique_ptr<grpc::ClientWriter<v1::UploadDatasetRequest>> writer =
      stub_->UploadDataset(&context, &response);
  v1::UploadDatasetRequest message;
  v1::DatasetHeader* header = message.mutable_header();
  header->set_name(name);
  header->set_features(examples.num_features);
  header->set_target_kind(labels ? v1::TARGET_KIND_CLASS_LABELS
                                 : v1::TARGET_KIND_VALUES);
  header->set_target_width(labels ? 0 : examples.num_targets);
  header->set_expected_rows(rows);
  // A failed write means the server ended the call early (with the error
  // Finish reports): stop sending.
  bool open = writer->Write(message);
  const int64_t chunk_rows = RowsPerChunk(examples);
  v1::DatasetChunk* chunk = message.mutable_chunk();
  for (int64_t first = 0; open && first < rows; first += chunk_rows) {
    const int64_t n = std::min(chunk_rows, rows - first);
    SetValues(examples.features.subspan(first * examples.num_features,
                                        n * examples.num_features),
              n, examples.num_features, chunk->mutable_x());
    if (labels) {
      chunk->mutable_labels()->Clear();
      chunk->mutable_labels()->Add(examples.labels.begin() + first,
                                   examples.labels.begin() + first + n);
    } else {
      SetValues(examples.targets.subspan(first * examples.num_targets,
                                         n * examples.num_targets),
                n, examples.num_targets, chunk->mutable_targets());
    }
    open = writer->Write(message);
    if (open && on_progress) on_progress(first + n, rows);
  }
  if (open) writer->WritesDone();
  const grpc::Status status = writer->Finish();
  if (canceller != nullptr && canceller->cancelled() &&
      status.error_code() == grpc::StatusCode::CANCELLED) {
    return absl::CancelledError(
        absl::StrCat("UploadDataset: the upload of dataset '", name,
                     "' was cancelled by the client; the server kept nothing"));
  }
  BNMLP_RETURN_IF_ERROR(Check(status, "UploadDataset"));
  return response.dataset();
}

absl::StatusOr<std::vector<v1::DatasetInfo>> BnmlpClient::ListDatasets() {
  v1::ListDatasetsResponse response;
  auto context = UnaryContext();
  BNMLP_RETURN_IF_ERROR(Check(
      stub_->ListDatasets(context.get(), v1::ListDatasetsRequest(), &response),
      "ListDatasets"));
  return std::vector<v1::DatasetInfo>(response.datasets().begin(),
                                      response.datasets().end());
}

absl::StatusOr<v1::DatasetInfo> BnmlpClient::GetDataset(
    const std::string& name) {
  v1::GetDatasetRequest request;
  request.set_name(name);
  v1::DatasetInfo info;
  auto context = UnaryContext();
  BNMLP_RETURN_IF_ERROR(
      Check(stub_->GetDataset(context.get(), request, &info), "GetDataset"));
  return info;
}

absl::StatusOr<int> BnmlpClient::DeleteDataset(const std::string& name) {
  v1::DeleteDatasetRequest request;
  request.set_name(name);
  v1::DeleteDatasetResponse response;
  auto context = UnaryContext();
  BNMLP_RETURN_IF_ERROR(
      Check(stub_->DeleteDataset(context.get(), request, &response),
            "DeleteDataset"));
  return response.trainings_using();
}

}  // namespace bnmlp::client
