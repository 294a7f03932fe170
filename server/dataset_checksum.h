// DatasetInfo.content_checksum: zlib's CRC-32 of a dataset's rows as
// features, then labels or targets (little-endian float32 / int32), computed
// as the rows arrive, part by part, with no second pass over the data (the
// two parts' CRCs are joined with crc32_combine).
#ifndef BNMLP_SERVER_DATASET_CHECKSUM_H_
#define BNMLP_SERVER_DATASET_CHECKSUM_H_

#include <cstdint>
#include <string>

#include "absl/types/span.h"

namespace bnmlp {

// Not thread-safe (one per upload or file).
class ContentChecksum {
 public:
  ContentChecksum();

  void AddFeatures(absl::Span<const float> values);
  void AddLabels(absl::Span<const int32_t> values);
  void AddTargets(absl::Span<const float> values);

  // The CRC-32 of every feature added, then every label or target.
  uint32_t Value() const;

 private:
  void AddTargetBytes(const void* data, size_t bytes);

  uint32_t features_crc_;
  uint32_t targets_crc_;
  int64_t target_bytes_ = 0;
};

// "crc32:" and 8 lowercase hex digits.
std::string FormatContentChecksum(uint32_t crc);

}  // namespace bnmlp

#endif  // BNMLP_SERVER_DATASET_CHECKSUM_H_
