// BnMlpServiceImpl's datasets: UploadDataset (client streaming, checked as
// the chunks arrive), ListDatasets, GetDataset, DeleteDataset, and Train's
// `dataset` / `validation_dataset` (server/dataset_registry.h).
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "server/bnmlp_service.h"
#include "server/dataset_conversion.h"
#include "server/event_log.h"
#include "server/rpc_call.h"

namespace bnmlp {
namespace {

// `status` with where in the stream it happened, e.g. "chunk 5 (rows
// 1200-1499): x[1203][4] is nan; every value must be finite".
absl::Status InChunk(const absl::Status& status, int64_t chunk,
                     int64_t first_row, int64_t rows) {
  return absl::Status(
      status.code(),
      absl::StrCat("chunk ", chunk, " (rows ", first_row, "-",
                   first_row + rows - 1, "): ", status.message()));
}

}  // namespace

grpc::Status BnMlpServiceImpl::UploadDataset(
    grpc::ServerContext* context,
    grpc::ServerReader<v1::UploadDatasetRequest>* reader,
    v1::UploadDatasetResponse* response) {
  // The dataset's name arrives in the stream; the event line names it.
  return ServeCall(rpc_, *context, "UploadDataset", "", [&] {
    return DoUploadDataset(*context, *reader, response);
  });
}

absl::Status BnMlpServiceImpl::DoUploadDataset(
    grpc::ServerContext& context,
    grpc::ServerReader<v1::UploadDatasetRequest>& reader,
    v1::UploadDatasetResponse* response) {
  BNMLP_RETURN_IF_ERROR(registry_->CheckWritable());
  v1::UploadDatasetRequest message;
  if (!reader.Read(&message)) {
    return context.IsCancelled()
               ? absl::CancelledError("the client cancelled the upload")
               : absl::InvalidArgumentError(
                     "header: required: the stream ended before its first "
                     "message (the header)");
  }
  if (!message.has_header()) {
    return absl::InvalidArgumentError(
        "header: the first message must carry the header (name, features, "
        "target_kind); rows follow in later messages");
  }
  const v1::DatasetHeader& header = message.header();
  BNMLP_ASSIGN_OR_RETURN(const RowLayout layout, RowLayoutFromProto(header));
  absl::StatusOr<std::unique_ptr<DatasetUpload>> begun =
      datasets_->BeginUpload(header.name(), layout, header.expected_rows());
  if (!begun.ok()) {
    const absl::Status& s = begun.status();
    return absl::Status(s.code(), absl::StrCat("header.", s.message()));
  }
  DatasetUpload& upload = **begun;
  int64_t chunk = 0;
  while (reader.Read(&message)) {
    ++chunk;
    if (!message.has_chunk()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "message ", chunk + 1,
          " is not a chunk: only the first message may carry the header"));
    }
    const int64_t first_row = upload.rows();
    absl::StatusOr<Dataset<float>> rows = ChunkRowsFromProto(message.chunk());
    if (!rows.ok()) return InChunk(rows.status(), chunk, first_row, 1);
    if (absl::Status appended = upload.Append(*rows); !appended.ok()) {
      return InChunk(appended, chunk, first_row, rows->size());
    }
  }
  if (context.IsCancelled()) {
    return absl::CancelledError(
        absl::StrCat("the client cancelled the upload after ", upload.rows(),
                     " rows; dataset '", upload.name(), "' was not created"));
  }
  BNMLP_ASSIGN_OR_RETURN(DatasetStatus status, upload.Commit());
  LogEvent(absl::StrCat(
      "event=dataset_uploaded dataset=", status.name, " rows=", status.rows,
      " features=", status.layout.features, " bytes=", status.bytes,
      " chunks=", chunk, " peer=", context.peer()));
  DatasetStatusToProto(status, response->mutable_dataset());
  return absl::OkStatus();
}

grpc::Status BnMlpServiceImpl::ListDatasets(
    grpc::ServerContext* context, const v1::ListDatasetsRequest* /*request*/,
    v1::ListDatasetsResponse* response) {
  return ServeCall(rpc_, *context, "ListDatasets", "", [&] {
    for (const DatasetStatus& status : datasets_->List()) {
      DatasetStatusToProto(status, response->add_datasets());
    }
    return absl::OkStatus();
  });
}

grpc::Status BnMlpServiceImpl::GetDataset(grpc::ServerContext* context,
                                          const v1::GetDatasetRequest* request,
                                          v1::DatasetInfo* response) {
  return ServeCall(rpc_, *context, "GetDataset", request->name(), [&] {
    BNMLP_ASSIGN_OR_RETURN(DatasetStatus status,
                           datasets_->Get(request->name()));
    DatasetStatusToProto(status, response);
    return absl::OkStatus();
  });
}

grpc::Status BnMlpServiceImpl::DeleteDataset(
    grpc::ServerContext* context, const v1::DeleteDatasetRequest* request,
    v1::DeleteDatasetResponse* response) {
  return ServeCall(rpc_, *context, "DeleteDataset", request->name(), [&] {
    BNMLP_RETURN_IF_ERROR(registry_->CheckWritable());
    BNMLP_ASSIGN_OR_RETURN(int using_it, datasets_->Delete(request->name()));
    response->set_trainings_using(using_it);
    return absl::OkStatus();
  });
}

absl::StatusOr<TrainingInputs<float>> BnMlpServiceImpl::ResolveTrainingInputs(
    const ModelConfig& config, const v1::TrainRequest& request,
    const TrainRequestViews& views, std::vector<DatasetLease>& leases) const {
  const Dataset<float>* inline_validation =
      views.validation.has_value() ? &*views.validation : nullptr;
  if (request.dataset().empty() && request.validation_dataset().empty()) {
    return ValidateTrainInputs(config, views.train, inline_validation,
                               views.options);
  }
  // One set, inline (checked now) or uploaded (checked when it arrived:
  // only its shape is matched to the model).
  auto validated =
      [&](const std::string& dataset, const Dataset<float>& data,
          absl::string_view field) -> absl::StatusOr<ValidatedDataset<float>> {
    if (dataset.empty()) return ValidateDataset(config, data, field);
    absl::StatusOr<DatasetLease> lease = datasets_->Acquire(dataset);
    if (!lease.ok()) {
      return absl::Status(
          lease.status().code(),
          absl::StrCat(field, "dataset: ", lease.status().message()));
    }
    leases.push_back(*std::move(lease));
    return leases.back().data().FitTo(
        config, absl::StrCat(field, "dataset '", dataset, "'"));
  };
  leases.reserve(2);
  BNMLP_ASSIGN_OR_RETURN(ValidatedDataset<float> train,
                         validated(request.dataset(), views.train, ""));
  std::optional<ValidatedDataset<float>> validation;
  if (!request.validation_dataset().empty() || inline_validation != nullptr) {
    BNMLP_ASSIGN_OR_RETURN(
        ValidatedDataset<float> set,
        validated(
            request.validation_dataset(),
            inline_validation != nullptr ? *inline_validation : views.train,
            "validation_"));
    validation.emplace(set);
  }
  return ValidateTrainInputs(config, train,
                             validation.has_value() ? &*validation : nullptr,
                             views.options);
}

}  // namespace bnmlp
