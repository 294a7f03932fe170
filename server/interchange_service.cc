// BnMlpServiceImpl's ExportModel and ImportModel: models as files, in
// chunks (server/model_files.h), in ONNX (interchange/) or the native
// format (server/native_model_format.h).
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "interchange/onnx_export.h"
#include "interchange/onnx_import.h"
#include "server/api_enums.h"
#include "server/bnmlp_service.h"
#include "server/event_log.h"
#include "server/model_files.h"
#include "server/response_conversion.h"
#include "server/rpc_call.h"

namespace bnmlp {

grpc::Status BnMlpServiceImpl::ExportModel(
    grpc::ServerContext* context, const v1::ExportModelRequest* request,
    grpc::ServerWriter<v1::ExportModelResponse>* writer) {
  return ServeCall(rpc_, *context, "ExportModel", request->name(),
                   [&] { return DoExportModel(*request, *writer); });
}

absl::Status BnMlpServiceImpl::DoExportModel(
    const v1::ExportModelRequest& request,
    grpc::ServerWriter<v1::ExportModelResponse>& writer) {
  BNMLP_ASSIGN_OR_RETURN(const ModelFileFormat format,
                         FormatFromProto(request.format(), "format"));
  if (request.version() < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "version: expected 0 (the latest) or a retained version, got ",
        request.version()));
  }
  ExportedModelFile file;
  if (format == ModelFileFormat::kOnnx) {
    BNMLP_ASSIGN_OR_RETURN(file, ExportOnnxFile(request));
  } else {
    if (request.fold_batch_norm()) {
      return absl::InvalidArgumentError(
          "fold_batch_norm: applies to format FORMAT_ONNX only (a native "
          "file keeps the BatchNorm parameters to resume training)");
    }
    BNMLP_ASSIGN_OR_RETURN(
        file, native_format_->Export(request.name(), request.version()));
  }
  return SendModelFile(file.bytes, file.version,
                       [&writer](const v1::ExportModelResponse& response) {
                         return writer.Write(response);
                       });
}

absl::StatusOr<ModelSnapshot> BnMlpServiceImpl::SnapshotToExport(
    absl::string_view name, int64_t version) {
  return registry_->GetSnapshot(name, version);
}

absl::StatusOr<ExportedModelFile> BnMlpServiceImpl::ExportOnnxFile(
    const v1::ExportModelRequest& request) {
  BNMLP_ASSIGN_OR_RETURN(ModelSnapshot snapshot,
                         SnapshotToExport(request.name(), request.version()));
  OnnxExportOptions options;
  options.fold_batch_norm = request.fold_batch_norm();
  options.model_name = request.name();
  options.model_version = snapshot.version;
  BNMLP_ASSIGN_OR_RETURN(std::string bytes,
                         ExportOnnx(*snapshot.model, options));
  return ExportedModelFile{std::move(bytes), snapshot.version};
}

grpc::Status BnMlpServiceImpl::ImportModel(
    grpc::ServerContext* context,
    grpc::ServerReader<v1::ImportModelRequest>* reader,
    v1::ImportModelResponse* response) {
  // The model's name arrives in the stream; the event line below names it.
  return ServeCall(rpc_, *context, "ImportModel", "",
                   [&] { return DoImportModel(*context, *reader, response); });
}

absl::Status BnMlpServiceImpl::CheckImportHeader(
    const v1::ImportModelHeader& header) const {
  if (absl::Status name = ValidateModelName(header.name()); !name.ok()) {
    return absl::Status(name.code(), absl::StrCat("header.", name.message()));
  }
  BNMLP_ASSIGN_OR_RETURN(const ModelFileFormat format,
                         FormatFromProto(header.format(), "header.format"));
  if (format == ModelFileFormat::kBnmlp) {
    BNMLP_RETURN_IF_ERROR(native_format_->Available());
  }
  // A cheap early answer before the file is received; Insert checks again.
  if (registry_->GetStatus(header.name()).ok()) {
    return absl::AlreadyExistsError(
        absl::StrCat("header.name: model '", header.name(),
                     "' already exists; delete it or import under another "
                     "name"));
  }
  return absl::OkStatus();
}

absl::Status BnMlpServiceImpl::DoImportModel(
    grpc::ServerContext& context,
    grpc::ServerReader<v1::ImportModelRequest>& reader,
    v1::ImportModelResponse* response) {
  const int64_t max_parameters = registry_->limits().max_parameters;
  absl::StatusOr<ReceivedModelFile> file = ReceiveModelFile(
      [&reader](v1::ImportModelRequest* request) {
        return reader.Read(request);
      },
      [this](const v1::ImportModelHeader& header) {
        return CheckImportHeader(header);
      },
      MaxModelFileBytes(max_parameters));
  if (context.IsCancelled()) {
    return absl::CancelledError("the client cancelled the import");
  }
  if (!file.ok()) return file.status();
  const v1::ImportModelHeader& header = file->header;
  ModelStatus imported;
  if (header.format() == v1::FORMAT_ONNX) {
    OnnxImportOptions options;
    options.max_parameters = max_parameters;
    BNMLP_ASSIGN_OR_RETURN(Model<float> model,
                           ImportOnnx(file->bytes, options));
    BNMLP_ASSIGN_OR_RETURN(imported,
                           registry_->Insert(header.name(), std::move(model)));
  } else {
    BNMLP_ASSIGN_OR_RETURN(imported,
                           native_format_->Import(header.name(), file->bytes));
  }
  LogEvent(absl::StrCat("event=model_imported model=", imported.name,
                        " format=", v1::Format_Name(header.format()),
                        " bytes=", file->bytes.size(),
                        " parameters=", imported.parameter_count));
  ModelStatusToProto(imported, response->mutable_model());
  return absl::OkStatus();
}

}  // namespace bnmlp
