// Fashion-MNIST as Debian's dataset-fashion-mnist package installs it: four
// gzip-compressed IDX files, 60,000 training and 10,000 test images of 28x28
// pixels in 10 classes.
#ifndef BNMLP_DATA_FASHION_MNIST_H_
#define BNMLP_DATA_FASHION_MNIST_H_

#include <array>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "data/examples.h"

namespace bnmlp::data {

inline constexpr char kFashionMnistDir[] = "/usr/share/datasets/fashion-mnist";
inline constexpr int64_t kFashionMnistFeatures = 28 * 28;
inline constexpr int kFashionMnistClasses = 10;
inline constexpr int64_t kFashionMnistTrainSize = 60000;
inline constexpr int64_t kFashionMnistTestSize = 10000;

// The names of labels 0..9.
inline constexpr std::array<absl::string_view, kFashionMnistClasses>
    kFashionMnistClassNames = {
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

enum class FashionMnistSplit { kTrain, kTest };

struct FashionMnistFiles {
  std::string images;  // <dir>/{train,t10k}-images-idx3-ubyte.gz
  std::string labels;  // <dir>/{train,t10k}-labels-idx1-ubyte.gz
};

FashionMnistFiles FashionMnistPaths(FashionMnistSplit split,
                                    absl::string_view dir = kFashionMnistDir);

// Reads one split from `dir`: 784 features per image scaled to [0, 1], and
// labels in [0, 10). NOT_FOUND (with a hint to install the package) if the
// files are missing; INVALID_ARGUMENT if they are malformed or not shaped
// like Fashion-MNIST (784 features, labels below 10). Thread-safe.
absl::StatusOr<Examples> LoadFashionMnist(
    FashionMnistSplit split, const std::string& dir = kFashionMnistDir);

}  // namespace bnmlp::data

#endif  // BNMLP_DATA_FASHION_MNIST_H_
