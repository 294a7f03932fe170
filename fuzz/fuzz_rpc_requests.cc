// Fuzzes every RPC's request from raw bytes: the first byte picks the RPC,
// the rest is parsed as its request message (the streaming uploads as a
// stream of length-prefixed messages, see FuzzInput::TakeMessage) and put
// through what the handler does with it before and around the engine,
// without gRPC: the conversions (server/request_conversion.h,
// dataset_conversion.h, tensor_views.h, api_enums.h, model_files.h), core's
// validation, and the registries, with the server's default limits. A
// Predict that passes validation runs (the model is small), and so does a
// small Train (a copy of the model; no versions are published).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"
#include "bnmlp/v1/bnmlp.pb.h"
#include "common/status_macros.h"
#include "core/dataset.h"
#include "core/inference_model.h"
#include "core/model.h"
#include "core/model_config.h"
#include "core/predict_input.h"
#include "core/trainer.h"
#include "fuzz/fuzz_input.h"
#include "google/protobuf/stubs/logging.h"
#include "interchange/onnx_import.h"
#include "server/api_enums.h"
#include "server/bnmlp_service.h"
#include "server/dataset_conversion.h"
#include "server/dataset_registry.h"
#include "server/model_files.h"
#include "server/model_registry.h"
#include "server/native_model_format.h"
#include "server/request_conversion.h"
#include "server/tensor_views.h"

namespace bnmlp {
namespace {

// The model every request may name: 4 features, 8 hidden units, 3 classes.
constexpr absl::string_view kModel = "m";
// Models are really created below this size (bigger ones stop after the
// limit checks that run before any allocation): a fuzzer allocating 64 MB
// per input would test little else.
constexpr int64_t kMaxCreatedParameters = int64_t{1} << 16;
// The dataset budget: the server's default (4 GiB) would let one input
// allocate more than the fuzzer's memory limit; what is checked is the same.
constexpr int64_t kMaxDatasetBytes = int64_t{64} << 20;
// Train requests with at most this many samples x epochs really train.
constexpr int64_t kMaxTrainedSamples = 256;

struct Server {
  Server() : registry(RegistryLimits{}), datasets(kMaxDatasetBytes, nullptr) {
    ModelConfig config;
    config.layer_sizes = {4, 8, 3};
    if (!registry.Create(kModel, config).ok()) std::abort();
    native_format = StoreNativeModelFormat(&registry);
  }
  const ServiceOptions options;  // the server's defaults
  ModelRegistry registry;
  DatasetRegistry datasets;
  std::shared_ptr<NativeModelFormat> native_format;
};

Server& TheServer() {
  static Server server;
  return server;
}

// Removes what a request created, so every input starts from one model.
void Forget(Server& server, absl::string_view name) {
  if (name != kModel) server.registry.Delete(name).IgnoreError();
}

void CreateModel(Server& server, const v1::CreateModelRequest& request) {
  absl::StatusOr<ModelConfig> config = ModelConfigFromProto(request);
  if (!config.ok()) return;
  if (CountParameters(config->layer_sizes, config->normalization) >
      kMaxCreatedParameters) {
    ValidateModelConfig(*config, server.registry.limits().max_parameters)
        .IgnoreError();
    return;
  }
  if (server.registry.Create(request.name(), *config).ok()) {
    Forget(server, request.name());
  }
}

void Train(Server& server, const v1::TrainRequest& request) {
  server.registry.GetSnapshot(request.name()).IgnoreError();
  absl::StatusOr<ModelSnapshot> snapshot = server.registry.GetSnapshot(kModel);
  absl::StatusOr<TrainRequestViews> views =
      TrainRequestFromProto(request, server.options.progress_interval_seconds);
  if (!snapshot.ok() || !views.ok()) return;
  if (!request.dataset().empty() || !request.validation_dataset().empty()) {
    // No dataset is uploaded here: the lookup's error path.
    server.datasets.Acquire(request.dataset()).IgnoreError();
    return;
  }
  absl::StatusOr<TrainingInputs<float>> inputs = ValidateTrainInputs(
      snapshot->model->config(), views->train,
      views->validation ? &*views->validation : nullptr, views->options);
  if (!inputs.ok()) return;
  // Small runs train for real (the hyperparameters' edge cases: schedules,
  // momentum, tiny batches, divergence), as the server would.
  const int64_t samples = inputs->train().size();
  if (samples * views->options.epochs > kMaxTrainedSamples) return;
  Model<float> model = *snapshot->model;
  Train(&model, *inputs).IgnoreError();
}

void Predict(Server& server, const v1::PredictRequest& request) {
  server.registry.GetSnapshot(request.name(), request.version()).IgnoreError();
  absl::StatusOr<ModelSnapshot> snapshot = server.registry.GetSnapshot(kModel);
  if (!snapshot.ok()) std::abort();
  const InferenceModel<float>& model = *snapshot->inference;
  absl::StatusOr<ConstMatrixMap<float>> x = PredictSamplesFromProto(request);
  if (!x.ok()) return;
  absl::StatusOr<PredictInput<float>> input = ValidatePredictInput(model, *x);
  if (!input.ok()) return;
  const int64_t max_output_values =
      server.options.max_message_bytes / static_cast<int64_t>(sizeof(float));
  if (input->samples() > max_output_values / model.output_size()) return;
  v1::PredictResponse response;
  MatrixMap<float> outputs = ShapeOutputTensor(
      input->samples(), model.output_size(), response.mutable_outputs());
  PredictWorkspace<float> workspace;
  if (!bnmlp::Predict(model, *input, outputs, workspace).ok()) std::abort();
}

void ReadByName(Server& server, const std::string& name, int64_t version) {
  ValidateModelName(name).IgnoreError();
  server.registry.GetStatus(name).IgnoreError();
  server.registry.GetSnapshot(name, version).IgnoreError();
}

void ExportModel(Server& server, const v1::ExportModelRequest& request) {
  if (!FormatFromProto(request.format(), "format").ok()) return;
  ReadByName(server, request.name(), request.version());
}

// UploadDataset's stream, as DoUploadDataset reads it.
void UploadDataset(Server& server, fuzz::FuzzInput& input) {
  absl::string_view bytes;
  v1::UploadDatasetRequest message;
  if (!input.TakeMessage(&bytes) ||
      !message.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) ||
      !message.has_header()) {
    return;
  }
  const v1::DatasetHeader header = message.header();
  absl::StatusOr<RowLayout> layout = RowLayoutFromProto(header);
  if (!layout.ok()) return;
  absl::StatusOr<std::unique_ptr<DatasetUpload>> upload =
      server.datasets.BeginUpload(header.name(), *layout,
                                  header.expected_rows());
  if (!upload.ok()) return;
  while (input.TakeMessage(&bytes)) {
    if (!message.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) ||
        !message.has_chunk()) {
      return;
    }
    absl::StatusOr<Dataset<float>> rows = ChunkRowsFromProto(message.chunk());
    if (!rows.ok() || !(*upload)->Append(*rows).ok()) return;
  }
  if ((*upload)->Commit().ok()) {
    server.datasets.Delete(header.name()).IgnoreError();
  }
}

// ImportModel's stream, as DoImportModel reads it and imports the file.
void ImportModel(Server& server, fuzz::FuzzInput& input) {
  const int64_t max_parameters = server.registry.limits().max_parameters;
  absl::StatusOr<ReceivedModelFile> file = ReceiveModelFile(
      [&input](v1::ImportModelRequest* request) {
        absl::string_view bytes;
        if (!input.TakeMessage(&bytes)) return false;
        // An unparsable message is as good as an empty one here: gRPC
        // would have refused it before the handler.
        if (!request->ParseFromArray(bytes.data(),
                                     static_cast<int>(bytes.size()))) {
          request->Clear();
        }
        return true;
      },
      [&server](const v1::ImportModelHeader& header) -> absl::Status {
        BNMLP_RETURN_IF_ERROR(ValidateModelName(header.name()));
        BNMLP_RETURN_IF_ERROR(
            FormatFromProto(header.format(), "header.format").status());
        if (server.registry.GetStatus(header.name()).ok()) {
          return absl::AlreadyExistsError("taken");
        }
        return absl::OkStatus();
      },
      MaxModelFileBytes(max_parameters));
  if (!file.ok()) return;
  absl::StatusOr<ModelStatus> imported;
  if (file->header.format() == v1::FORMAT_ONNX) {
    OnnxImportOptions options;
    options.max_parameters = max_parameters;
    absl::StatusOr<Model<float>> model = ImportOnnx(file->bytes, options);
    if (!model.ok()) return;
    imported = server.registry.Insert(file->header.name(), *std::move(model));
  } else {
    imported = server.native_format->Import(file->header.name(), file->bytes);
  }
  if (imported.ok()) Forget(server, file->header.name());
}

template <typename Message>
bool Parse(const fuzz::FuzzInput& input, Message* message) {
  return message->ParseFromArray(input.rest().data(),
                                 static_cast<int>(input.rest().size()));
}

// The first input byte modulo kRpcCount picks one.
enum Rpc : uint8_t {
  kCreateModel,
  kTrain,
  kPredict,
  kGetParameters,
  kGetModel,
  kDeleteModel,
  kUploadDataset,
  kExportModel,
  kImportModel,
  kRpcCount,
};

void FuzzOneRequest(fuzz::FuzzInput& input) {
  Server& server = TheServer();
  switch (input.TakeByte() % kRpcCount) {
    case kCreateModel: {
      v1::CreateModelRequest request;
      if (Parse(input, &request)) CreateModel(server, request);
      break;
    }
    case kTrain: {
      v1::TrainRequest request;
      if (Parse(input, &request)) Train(server, request);
      break;
    }
    case kPredict: {
      v1::PredictRequest request;
      if (Parse(input, &request)) Predict(server, request);
      break;
    }
    case kGetParameters: {
      v1::GetParametersRequest request;
      if (Parse(input, &request)) {
        ReadByName(server, request.name(), request.version());
      }
      break;
    }
    case kGetModel: {
      v1::GetModelRequest request;
      if (Parse(input, &request)) ReadByName(server, request.name(), 0);
      break;
    }
    case kDeleteModel: {
      v1::DeleteModelRequest request;
      // The shared model stays: deleting it is the registry's unit tests'.
      if (Parse(input, &request) && request.name() != kModel) {
        server.registry.Delete(request.name()).IgnoreError();
      }
      break;
    }
    case kUploadDataset:
      UploadDataset(server, input);
      break;
    case kExportModel: {
      v1::ExportModelRequest request;
      if (Parse(input, &request)) ExportModel(server, request);
      break;
    }
    case kImportModel:
      ImportModel(server, input);
      break;
    default:
      break;
  }
}

}  // namespace
}  // namespace bnmlp

// Protobuf logs every message it refuses (invalid UTF-8 in a string
// field): millions of lines that slow the fuzzer and say nothing.
extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  bnmlp::fuzz::FuzzInput input(data, size);
  bnmlp::FuzzOneRequest(input);
  return 0;
}
