#include "server/dataset_checksum.h"

#include <zlib.h>

#include <algorithm>

#include "absl/strings/str_format.h"

namespace bnmlp {
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the checksum is defined over little-endian values");

// zlib's crc32 takes a uInt length: feed large blocks in pieces.
uint32_t Extend(uint32_t crc, const void* data, size_t bytes) {
  const auto* p = static_cast<const Bytef*>(data);
  constexpr size_t kPiece = size_t{1} << 30;
  while (bytes > 0) {
    const size_t n = std::min(bytes, kPiece);
    crc = static_cast<uint32_t>(crc32(crc, p, static_cast<uInt>(n)));
    p += n;
    bytes -= n;
  }
  return crc;
}

}  // namespace

ContentChecksum::ContentChecksum()
    : features_crc_(static_cast<uint32_t>(crc32(0, Z_NULL, 0))),
      targets_crc_(features_crc_) {}

void ContentChecksum::AddFeatures(absl::Span<const float> values) {
  features_crc_ =
      Extend(features_crc_, values.data(), values.size() * sizeof(float));
}

void ContentChecksum::AddLabels(absl::Span<const int32_t> values) {
  AddTargetBytes(values.data(), values.size() * sizeof(int32_t));
}

void ContentChecksum::AddTargets(absl::Span<const float> values) {
  AddTargetBytes(values.data(), values.size() * sizeof(float));
}

void ContentChecksum::AddTargetBytes(const void* data, size_t bytes) {
  targets_crc_ = Extend(targets_crc_, data, bytes);
  target_bytes_ += static_cast<int64_t>(bytes);
}

uint32_t ContentChecksum::Value() const {
  return static_cast<uint32_t>(
      crc32_combine(features_crc_, targets_crc_, target_bytes_));
}

std::string FormatContentChecksum(uint32_t crc) {
  return absl::StrFormat("crc32:%08x", crc);
}

}  // namespace bnmlp
