// Files the client and CLI tests write: a private temporary directory, CSV
// text and IDX (MNIST-format) images and labels.
#ifndef BNMLP_TESTS_CLIENT_TEST_FILES_H_
#define BNMLP_TESTS_CLIENT_TEST_FILES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace bnmlp::client_testing {

// A fresh directory under the test's temporary directory, removed with its
// contents on destruction. Unique per instance, so parallel tests do not
// collide.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // Writes `contents` to `name` in the directory and returns its path;
  // fails the current test on I/O errors.
  std::string Write(absl::string_view name, absl::string_view contents) const;

 private:
  std::string path_;
};

// The contents of the file at `path`; fails the current test if unreadable.
std::string ReadFile(const std::string& path);

// The bytes of an IDX file of unsigned bytes with dimensions `dims`.
std::string IdxBytes(const std::vector<uint32_t>& dims,
                     const std::vector<uint8_t>& data);

// A separable classification problem: `rows` samples of `features` values;
// the label is the index of the largest of the first `classes` features.
// Returns CSV text with the label in the last column.
std::string SeparableCsv(int rows, int features, int classes, uint32_t seed);

}  // namespace bnmlp::client_testing

#endif  // BNMLP_TESTS_CLIENT_TEST_FILES_H_
