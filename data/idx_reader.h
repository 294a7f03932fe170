// Readers for IDX files, the format of MNIST and Fashion-MNIST.
//
// An IDX file is a big-endian header -- two zero bytes, a type code, a
// dimension count D, then D 32-bit sizes -- followed by the data, row-major.
// These readers accept the type code 0x08 (unsigned bytes), which is what
// MNIST-style datasets use. Files may be plain or gzip-compressed (detected
// by the gzip magic bytes).
//
// Errors (each message names the file and, for malformed content, the byte
// offset -- of the decompressed data for .gz files -- and what was expected):
//   NOT_FOUND / PERMISSION_DENIED  the file cannot be opened;
//   INVALID_ARGUMENT  malformed content: bad magic, unsupported type code,
//       no dimensions or a zero dimension, a header whose sizes disagree with
//       the data actually present (truncated or trailing bytes), a corrupt or
//       truncated gzip stream, an image/label count mismatch;
//   RESOURCE_EXHAUSTED  the decompressed file exceeds kDefaultMaxFileBytes.
// Header sizes are checked against the bytes actually present before
// anything is allocated for them. All functions are thread-safe.
#ifndef BNMLP_DATA_IDX_READER_H_
#define BNMLP_DATA_IDX_READER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "data/examples.h"

namespace bnmlp::data {

// Reads an IDX file of D >= 2 dimensions [samples, d1, ..., d(D-1)] as
// features only: num_samples = samples, num_features = d1 * ... * d(D-1)
// (28 x 28 -> 784). With `scale_to_unit`, each byte b becomes b / 255.0f in
// [0, 1] (as torchvision's ToTensor does); otherwise it stays 0..255.
absl::StatusOr<Examples> ReadIdxImages(const std::string& path,
                                       bool scale_to_unit = true);

// Reads a one-dimensional IDX file of class labels (0..255).
absl::StatusOr<std::vector<int32_t>> ReadIdxLabels(const std::string& path);

// Reads an images file and its labels file into one classification set.
// INVALID_ARGUMENT naming both files if their sample counts differ.
absl::StatusOr<Examples> ReadIdxDataset(const std::string& images_path,
                                        const std::string& labels_path,
                                        bool scale_to_unit = true);

}  // namespace bnmlp::data

#endif  // BNMLP_DATA_IDX_READER_H_
