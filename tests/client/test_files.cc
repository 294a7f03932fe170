#include "tests/client/test_files.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"

namespace bnmlp::client_testing {

TempDir::TempDir() {
  std::string pattern = ::testing::TempDir() + "bnmlp_client_XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp failed for " << pattern;
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string TempDir::Write(absl::string_view name,
                           absl::string_view contents) const {
  const std::string path = absl::StrCat(path_, "/", name);
  std::ofstream out(path, std::ios::binary);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  out.close();
  if (!out) ADD_FAILURE() << "cannot write " << path;
  return path;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) ADD_FAILURE() << "cannot read " << path;
  return std::string(std::istreambuf_iterator<char>(in),
                     std::istreambuf_iterator<char>());
}

std::string IdxBytes(const std::vector<uint32_t>& dims,
                     const std::vector<uint8_t>& data) {
  std::string bytes = {0, 0, 0x08, static_cast<char>(dims.size())};
  for (const uint32_t dim : dims) {
    for (int shift = 24; shift >= 0; shift -= 8) {
      bytes.push_back(static_cast<char>((dim >> shift) & 0xff));
    }
  }
  bytes.append(data.begin(), data.end());
  return bytes;
}

std::string SeparableCsv(int rows, int features, int classes, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  std::string csv;
  std::vector<float> row(features);
  for (int r = 0; r < rows; ++r) {
    int label = 0;
    for (int f = 0; f < features; ++f) {
      row[f] = uniform(rng);
      if (f < classes && row[f] > row[label]) label = f;
    }
    absl::StrAppend(&csv, absl::StrJoin(row, ","), ",", label, "\n");
  }
  return csv;
}

}  // namespace bnmlp::client_testing
