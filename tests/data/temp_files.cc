#include "tests/data/temp_files.h"

#include <stdlib.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"

namespace bnmlp::data::test_files {

TempDir::TempDir() {
  std::string pattern = absl::StrCat(
      absl::StripSuffix(::testing::TempDir(), "/"), "/bnmlp_test_XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp(" << pattern << ") failed";
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string TempDir::PathOf(absl::string_view name) const {
  return absl::StrCat(path_, "/", name);
}

std::string TempDir::Write(absl::string_view name,
                           absl::string_view bytes) const {
  const std::string path = PathOf(name);
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  EXPECT_TRUE(out.good()) << "cannot write " << path;
  return path;
}

std::string TempDir::WriteGzip(absl::string_view name,
                               absl::string_view bytes) const {
  const std::string path = PathOf(name);
  gzFile file = gzopen(path.c_str(), "wb");
  EXPECT_NE(file, nullptr) << "cannot create " << path;
  if (file == nullptr) return path;
  const int written =
      bytes.empty()
          ? 0
          : gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size()));
  EXPECT_EQ(written, static_cast<int>(bytes.size())) << "gzwrite " << path;
  EXPECT_EQ(gzclose(file), Z_OK) << "gzclose " << path;
  return path;
}

std::string ReadRawFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  return std::string(std::istreambuf_iterator<char>(in),
                     std::istreambuf_iterator<char>());
}

std::string IdxBytes(const std::vector<uint32_t>& dims,
                     const std::vector<uint8_t>& data) {
  return IdxBytes(dims,
                  absl::string_view(reinterpret_cast<const char*>(data.data()),
                                    data.size()));
}

std::string IdxBytes(const std::vector<uint32_t>& dims, absl::string_view data,
                     uint8_t type) {
  std::string bytes = {'\0', '\0', static_cast<char>(type),
                       static_cast<char>(dims.size())};
  for (uint32_t dim : dims) {
    for (int shift = 24; shift >= 0; shift -= 8) {
      bytes.push_back(static_cast<char>((dim >> shift) & 0xFF));
    }
  }
  return absl::StrCat(bytes, data);
}

}  // namespace bnmlp::data::test_files
