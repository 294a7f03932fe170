#include "server/store/dataset_file.h"

#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/base/internal/endian.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/status_macros.h"
#include "server/dataset_checksum.h"
#include "server/store/durable_file.h"

namespace bnmlp {
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "dataset files hold the rows' memory as little-endian values");

constexpr size_t kPayloadHeaderSize = 32;
// The reader's buffer, and the writer's slices.
constexpr int64_t kPieceBytes = int64_t{4} << 20;
constexpr uint32_t kLabelsCode = 1;
constexpr uint32_t kValuesCode = 2;

absl::string_view BytesOf(const void* data, size_t bytes) {
  return absl::string_view(static_cast<const char*>(data), bytes);
}

template <typename T>
absl::Status AppendInSlices(DurableFileWriter& writer,
                            absl::Span<const T> values) {
  absl::string_view bytes = BytesOf(values.data(), values.size() * sizeof(T));
  while (!bytes.empty()) {
    const size_t n = std::min<size_t>(bytes.size(), kPieceBytes);
    BNMLP_RETURN_IF_ERROR(writer.Append(bytes.substr(0, n)));
    bytes.remove_prefix(n);
  }
  return absl::OkStatus();
}

std::string EncodePayloadHeader(const StoredDataset& data, uint32_t checksum) {
  std::string header(kPayloadHeaderSize, '\0');
  const RowLayout& layout = data.layout();
  absl::little_endian::Store64(header.data(),
                               static_cast<uint64_t>(layout.features));
  absl::little_endian::Store32(header.data() + 8,
                               layout.target_kind == TargetKind::kClassLabels
                                   ? kLabelsCode
                                   : kValuesCode);
  absl::little_endian::Store64(header.data() + 12,
                               static_cast<uint64_t>(layout.target_width));
  absl::little_endian::Store64(header.data() + 20,
                               static_cast<uint64_t>(data.rows()));
  absl::little_endian::Store32(header.data() + 28, checksum);
  return header;
}

absl::Status DataLoss(absl::string_view path, absl::string_view why) {
  return absl::DataLossError(absl::StrCat(path, ": ", why));
}

}  // namespace

absl::Status WriteDatasetFile(const std::string& path,
                              const StoredDataset& data,
                              uint32_t content_checksum) {
  const uint64_t payload =
      kPayloadHeaderSize + static_cast<uint64_t>(data.bytes());
  BNMLP_ASSIGN_OR_RETURN(std::unique_ptr<DurableFileWriter> writer,
                         DurableFileWriter::Open(path, kDatasetFileMagic,
                                                 kDatasetFileVersion, payload));
  BNMLP_RETURN_IF_ERROR(
      writer->Append(EncodePayloadHeader(data, content_checksum)));
  BNMLP_RETURN_IF_ERROR(AppendInSlices(*writer, data.features()));
  BNMLP_RETURN_IF_ERROR(AppendInSlices(*writer, data.labels()));
  BNMLP_RETURN_IF_ERROR(AppendInSlices(*writer, data.targets()));
  return writer->Commit();
}

DatasetFileReader::~DatasetFileReader() { std::fclose(file_); }

absl::Status DatasetFileReader::ReadExactly(void* data, size_t bytes) {
  if (std::fread(data, 1, bytes, file_) != bytes) {
    return DataLoss(path_,
                    std::ferror(file_) != 0
                        ? absl::StrCat("read error: ", std::strerror(errno))
                        : "truncated");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<DatasetFileReader>> DatasetFileReader::Open(
    const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rbe");
  if (file == nullptr) {
    return absl::ErrnoToStatus(
        errno, absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  std::unique_ptr<DatasetFileReader> reader(new DatasetFileReader(path, file));
  struct stat info {};
  if (fstat(fileno(file), &info) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot stat ", path));
  }
  const auto file_size = static_cast<uint64_t>(info.st_size);
  if (file_size < kFrameHeaderSize + kPayloadHeaderSize + kFrameTrailerSize) {
    return DataLoss(path, absl::StrCat("truncated: ", file_size,
                                       " bytes, shorter than the headers"));
  }
  char frame[kFrameHeaderSize];
  BNMLP_RETURN_IF_ERROR(reader->ReadExactly(frame, sizeof(frame)));
  if (absl::string_view(frame, kMagicSize) !=
      absl::string_view(kDatasetFileMagic, kMagicSize)) {
    return DataLoss(
        path,
        absl::StrCat("not a dataset file (starts with '",
                     absl::CHexEscape(absl::string_view(frame, kMagicSize)),
                     "')"));
  }
  const uint32_t version = absl::little_endian::Load32(frame + kMagicSize);
  if (version != kDatasetFileVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": format version ", version, "; this build reads ",
                     kDatasetFileVersion));
  }
  const uint64_t payload = absl::little_endian::Load64(frame + kMagicSize + 4);
  if (payload != file_size - kFrameHeaderSize - kFrameTrailerSize) {
    return DataLoss(
        path, absl::StrCat("the header announces ", payload,
                           " payload bytes; the file holds ",
                           file_size - kFrameHeaderSize - kFrameTrailerSize));
  }
  char header[kPayloadHeaderSize];
  BNMLP_RETURN_IF_ERROR(reader->ReadExactly(header, sizeof(header)));
  reader->frame_crc_ = static_cast<uint32_t>(
      crc32_z(crc32_z(0, Z_NULL, 0), reinterpret_cast<const Bytef*>(header),
              sizeof(header)));
  RowLayout& layout = reader->layout_;
  layout.features = static_cast<int64_t>(absl::little_endian::Load64(header));
  const uint32_t kind = absl::little_endian::Load32(header + 8);
  if (kind != kLabelsCode && kind != kValuesCode) {
    return DataLoss(path, absl::StrCat("unknown target kind ", kind));
  }
  layout.target_kind =
      kind == kLabelsCode ? TargetKind::kClassLabels : TargetKind::kValues;
  layout.target_width =
      static_cast<int64_t>(absl::little_endian::Load64(header + 12));
  if (absl::Status valid = ValidateRowLayout(layout); !valid.ok()) {
    return DataLoss(path, valid.message());
  }
  const uint64_t rows = absl::little_endian::Load64(header + 20);
  const auto row_bytes = static_cast<uint64_t>(layout.BytesPerRow());
  if (rows == 0 || rows > (payload - kPayloadHeaderSize) / row_bytes ||
      rows * row_bytes != payload - kPayloadHeaderSize) {
    return DataLoss(path, absl::StrCat(rows, " rows of ", row_bytes,
                                       " bytes do not fill the ",
                                       payload - kPayloadHeaderSize,
                                       " bytes of rows the file holds"));
  }
  reader->rows_ = static_cast<int64_t>(rows);
  reader->content_checksum_ = absl::little_endian::Load32(header + 28);
  return reader;
}

template <typename T, typename Consume>
absl::Status DatasetFileReader::ReadPart(int64_t width, Consume consume) {
  const int64_t rows_per_piece = std::max<int64_t>(
      1, kPieceBytes / static_cast<int64_t>(sizeof(T)) / width);
  std::vector<T> piece(
      static_cast<size_t>(std::min(rows_per_piece, rows_) * width));
  for (int64_t done = 0; done < rows_; done += rows_per_piece) {
    const int64_t n = std::min(rows_per_piece, rows_ - done);
    const size_t count = static_cast<size_t>(n * width);
    BNMLP_RETURN_IF_ERROR(ReadExactly(piece.data(), count * sizeof(T)));
    frame_crc_ = static_cast<uint32_t>(
        crc32_z(frame_crc_, reinterpret_cast<const Bytef*>(piece.data()),
                count * sizeof(T)));
    const absl::Status appended =
        consume(absl::MakeConstSpan(piece.data(), count), n);
    // A value the upload would have refused: the file was altered.
    if (absl::IsInvalidArgument(appended)) {
      return DataLoss(path_, appended.message());
    }
    BNMLP_RETURN_IF_ERROR(appended);
  }
  return absl::OkStatus();
}

absl::StatusOr<LoadedDataset> DatasetFileReader::ReadRows() {
  BNMLP_ASSIGN_OR_RETURN(DatasetBuilder builder,
                         DatasetBuilder::Create(layout_, rows_));
  ContentChecksum checksum;
  // Features of every row, then their labels or targets.
  BNMLP_RETURN_IF_ERROR(ReadPart<float>(
      layout_.features, [&](absl::Span<const float> values, int64_t n) {
        checksum.AddFeatures(values);
        return builder.AppendFeatures(
            ConstMatrixMap<float>(values.data(), layout_.features, n));
      }));
  if (layout_.target_kind == TargetKind::kClassLabels) {
    BNMLP_RETURN_IF_ERROR(
        ReadPart<int32_t>(1, [&](absl::Span<const int32_t> values, int64_t) {
          checksum.AddLabels(values);
          return builder.AppendLabels(values);
        }));
  } else {
    BNMLP_RETURN_IF_ERROR(ReadPart<float>(
        layout_.target_width, [&](absl::Span<const float> values, int64_t n) {
          checksum.AddTargets(values);
          return builder.AppendTargets(
              ConstMatrixMap<float>(values.data(), layout_.target_width, n));
        }));
  }
  char trailer[kFrameTrailerSize];
  BNMLP_RETURN_IF_ERROR(ReadExactly(trailer, sizeof(trailer)));
  if (absl::little_endian::Load32(trailer) != frame_crc_) {
    return DataLoss(path_, "CRC-32 mismatch: the file is corrupt");
  }
  if (checksum.Value() != content_checksum_) {
    return DataLoss(path_, "the rows do not match their content checksum");
  }
  BNMLP_ASSIGN_OR_RETURN(StoredDataset data, std::move(builder).Finish());
  return LoadedDataset{std::move(data), content_checksum_};
}

}  // namespace bnmlp
