// BnmlpClient's ExportModel and ImportModel: model files over the API's
// streams, in chunks of at most 1 MiB with their size and CRC-32.
#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "client/bnmlp_client.h"
#include "common/status_macros.h"
#include "zlib.h"

namespace bnmlp::client {
namespace {

constexpr int64_t kChunkBytes = int64_t{1} << 20;

uint32_t Crc32(absl::string_view bytes) {
  uLong crc = crc32(0L, Z_NULL, 0);
  while (!bytes.empty()) {
    const size_t n = std::min<size_t>(bytes.size(), 1u << 30);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(bytes.data()),
                static_cast<uInt>(n));
    bytes.remove_prefix(n);
  }
  return static_cast<uint32_t>(crc);
}

}  // namespace

std::unique_ptr<grpc::ClientContext> BnmlpClient::TransferContext(
    absl::Duration extra) const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(
      absl::ToChronoTime(absl::Now() + options_.call_timeout + extra));
  return context;
}

absl::StatusOr<ExportedModelFile> BnmlpClient::ExportModel(
    const std::string& name, v1::Format format, bool fold_batch_norm,
    int64_t version, const TransferProgressCallback& on_progress) {
  v1::ExportModelRequest request;
  request.set_name(name);
  request.set_format(format);
  request.set_fold_batch_norm(fold_batch_norm);
  request.set_version(version);
  auto context = TransferContext(absl::Minutes(10));
  std::unique_ptr<grpc::ClientReader<v1::ExportModelResponse>> reader =
      stub_->ExportModel(context.get(), request);
  ExportedModelFile file;
  int64_t size = 0;
  uint32_t crc = 0;
  bool first = true;
  v1::ExportModelResponse response;
  while (reader->Read(&response)) {
    if (first) {
      size = response.size_bytes();
      crc = response.crc32();
      file.version = response.version();
      if (size > 0) file.bytes.reserve(static_cast<size_t>(size));
      first = false;
    }
    file.bytes += response.chunk();
    if (on_progress) {
      on_progress(static_cast<int64_t>(file.bytes.size()), size);
    }
  }
  BNMLP_RETURN_IF_ERROR(Check(reader->Finish(), "ExportModel"));
  if (static_cast<int64_t>(file.bytes.size()) != size ||
      Crc32(file.bytes) != crc) {
    return absl::DataLossError(absl::StrFormat(
        "ExportModel: received %d bytes with CRC-32 %08x; the server "
        "announced %d bytes with CRC-32 %08x",
        file.bytes.size(), Crc32(file.bytes), size, crc));
  }
  return file;
}

absl::StatusOr<v1::ModelInfo> BnmlpClient::ImportModel(
    const std::string& name, v1::Format format, absl::string_view file,
    const TransferProgressCallback& on_progress) {
  const int64_t size = static_cast<int64_t>(file.size());
  auto context = TransferContext(absl::Seconds(size / kChunkBytes + 1));
  v1::ImportModelResponse response;
  std::unique_ptr<grpc::ClientWriter<v1::ImportModelRequest>> writer =
      stub_->ImportModel(context.get(), &response);
  v1::ImportModelRequest request;
  v1::ImportModelHeader* header = request.mutable_header();
  header->set_name(name);
  header->set_format(format);
  header->set_size_bytes(size);
  header->set_crc32(Crc32(file));
  // A failed write means the server ended the call early (with an error
  // Finish reports): stop sending.
  bool open = writer->Write(request);
  for (int64_t offset = 0; open && offset < size; offset += kChunkBytes) {
    request.set_chunk(std::string(file.substr(offset, kChunkBytes)));
    open = writer->Write(request);
    if (on_progress) {
      on_progress(std::min(size, offset + kChunkBytes), size);
    }
  }
  if (open) writer->WritesDone();
  BNMLP_RETURN_IF_ERROR(Check(writer->Finish(), "ImportModel"));
  return response.model();
}

}  // namespace bnmlp::client
