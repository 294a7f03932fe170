#include "tests/interchange/interchange_rpc.h"

#include <chrono>
#include <cmath>
#include <limits>
#include <random>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "nlohmann/json.hpp"
#include "zlib.h"

namespace bnmlp::testing {
namespace {

std::unique_ptr<grpc::ClientContext> Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::seconds(60));
  return context;
}

absl::Status ToStatus(const grpc::Status& status, absl::string_view call) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      absl::StrCat(call, ": ", status.error_message()));
}

uint32_t Crc32(const std::string& bytes) {
  return static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(bytes.data()),
            static_cast<uInt>(bytes.size())));
}

}  // namespace

std::unique_ptr<v1::BnMlpService::Stub> ConnectTo(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  return v1::BnMlpService::NewStub(grpc::CreateCustomChannel(
      address, grpc::InsecureChannelCredentials(), args));
}

v1::Tensor RowsToTensor(const Rows& rows) {
  v1::Tensor tensor;
  tensor.add_shape(static_cast<int64_t>(rows.size()));
  tensor.add_shape(rows.empty() ? 0 : static_cast<int64_t>(rows[0].size()));
  for (const std::vector<float>& row : rows) {
    tensor.mutable_values()->Add(row.begin(), row.end());
  }
  return tensor;
}

Rows TensorToRows(const v1::Tensor& tensor) {
  Rows rows;
  if (tensor.shape_size() != 2) return rows;
  const int64_t n = tensor.shape(0), width = tensor.shape(1);
  for (int64_t i = 0; i < n; ++i) {
    rows.emplace_back(tensor.values().begin() + i * width,
                      tensor.values().begin() + (i + 1) * width);
  }
  return rows;
}

Rows RandomRows(int64_t n, int64_t width, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  Rows rows(n, std::vector<float>(width));
  for (std::vector<float>& row : rows) {
    for (float& v : row) v = normal(rng);
  }
  return rows;
}

double MaxAbsDiff(const Rows& a, const Rows& b) {
  if (a.size() != b.size()) return std::numeric_limits<double>::infinity();
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].size() != b[i].size()) {
      return std::numeric_limits<double>::infinity();
    }
    for (size_t j = 0; j < a[i].size(); ++j) {
      worst = std::max(worst, std::fabs(static_cast<double>(a[i][j]) -
                                        static_cast<double>(b[i][j])));
    }
  }
  return worst;
}

absl::Status CreateModel(v1::BnMlpService::Stub& stub,
                         const v1::CreateModelRequest& request) {
  v1::ModelInfo info;
  return ToStatus(stub.CreateModel(Context().get(), request, &info),
                  "CreateModel");
}

absl::StatusOr<v1::TrainProgress> Train(v1::BnMlpService::Stub& stub,
                                        const v1::TrainRequest& request) {
  std::unique_ptr<grpc::ClientContext> context = Context();
  auto reader = stub.Train(context.get(), request);
  v1::TrainResponse response;
  v1::TrainProgress done;
  while (reader->Read(&response)) {
    if (response.has_done()) done = response.done();
  }
  BNMLP_RETURN_IF_ERROR(ToStatus(reader->Finish(), "Train"));
  return done;
}

absl::StatusOr<Rows> Predict(v1::BnMlpService::Stub& stub,
                             const std::string& name, const Rows& x) {
  v1::PredictRequest request;
  request.set_name(name);
  *request.mutable_x() = RowsToTensor(x);
  v1::PredictResponse response;
  BNMLP_RETURN_IF_ERROR(
      ToStatus(stub.Predict(Context().get(), request, &response), "Predict"));
  return TensorToRows(response.outputs());
}

absl::StatusOr<std::string> ExportModel(v1::BnMlpService::Stub& stub,
                                        const std::string& name,
                                        v1::Format format, bool fold) {
  v1::ExportModelRequest request;
  request.set_name(name);
  request.set_format(format);
  request.set_fold_batch_norm(fold);
  std::unique_ptr<grpc::ClientContext> context = Context();
  auto reader = stub.ExportModel(context.get(), request);
  v1::ExportModelResponse response;
  std::string file;
  int64_t size = -1;
  uint32_t crc = 0;
  while (reader->Read(&response)) {
    if (size < 0) {
      size = response.size_bytes();
      crc = response.crc32();
    }
    file += response.chunk();
  }
  BNMLP_RETURN_IF_ERROR(ToStatus(reader->Finish(), "ExportModel"));
  if (static_cast<int64_t>(file.size()) != size || Crc32(file) != crc) {
    return absl::DataLossError(absl::StrCat(
        "ExportModel: received ", file.size(), " bytes, announced ", size));
  }
  return file;
}

absl::StatusOr<v1::ModelInfo> ImportModel(v1::BnMlpService::Stub& stub,
                                          const std::string& name,
                                          v1::Format format,
                                          const std::string& file) {
  std::unique_ptr<grpc::ClientContext> context = Context();
  v1::ImportModelResponse response;
  auto writer = stub.ImportModel(context.get(), &response);
  v1::ImportModelRequest request;
  request.mutable_header()->set_name(name);
  request.mutable_header()->set_format(format);
  request.mutable_header()->set_size_bytes(static_cast<int64_t>(file.size()));
  request.mutable_header()->set_crc32(Crc32(file));
  bool open = writer->Write(request);
  constexpr size_t kChunk = 64 << 10;
  for (size_t offset = 0; open && offset < file.size(); offset += kChunk) {
    request.set_chunk(file.substr(offset, kChunk));
    open = writer->Write(request);
  }
  writer->WritesDone();
  BNMLP_RETURN_IF_ERROR(ToStatus(writer->Finish(), "ImportModel"));
  return response.model();
}

std::string RowsJson(const Rows& rows) {
  return nlohmann::json{{"x", rows}}.dump();
}

absl::StatusOr<Rows> RowsFromJson(const std::string& json_array) {
  try {
    return nlohmann::json::parse(json_array).get<Rows>();
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a JSON array of rows: ", e.what()));
  }
}

}  // namespace bnmlp::testing
