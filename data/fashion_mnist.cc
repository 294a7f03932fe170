#include "data/fashion_mnist.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "data/idx_reader.h"

namespace bnmlp::data {

FashionMnistFiles FashionMnistPaths(FashionMnistSplit split,
                                    absl::string_view dir) {
  const absl::string_view prefix =
      split == FashionMnistSplit::kTrain ? "train" : "t10k";
  return {absl::StrCat(dir, "/", prefix, "-images-idx3-ubyte.gz"),
          absl::StrCat(dir, "/", prefix, "-labels-idx1-ubyte.gz")};
}

absl::StatusOr<Examples> LoadFashionMnist(FashionMnistSplit split,
                                          const std::string& dir) {
  const FashionMnistFiles files = FashionMnistPaths(split, dir);
  absl::StatusOr<Examples> examples =
      ReadIdxDataset(files.images, files.labels, /*scale_to_unit=*/true);
  if (absl::IsNotFound(examples.status())) {
    return absl::NotFoundError(absl::StrCat(
        examples.status().message(),
        " (Fashion-MNIST comes from the Debian package dataset-fashion-mnist; "
        "scripts/install-deps installs it)"));
  }
  if (!examples.ok()) return examples.status();
  if (examples->num_features != kFashionMnistFeatures) {
    return absl::InvalidArgumentError(
        absl::StrCat(files.images, ": images have ", examples->num_features,
                     " pixels; expected 28 x 28 = 784 for Fashion-MNIST"));
  }
  const auto bad_label =
      std::find_if(examples->labels.begin(), examples->labels.end(),
                   [](int32_t label) { return label >= kFashionMnistClasses; });
  if (bad_label != examples->labels.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat(files.labels, ": label ", *bad_label, " of sample ",
                     bad_label - examples->labels.begin(), "; expected 0..9"));
  }
  return examples;
}

}  // namespace bnmlp::data
