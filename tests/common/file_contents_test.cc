#include "common/file_contents.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bnmlp {
namespace {

using ::testing::HasSubstr;

class FileContentsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/file_contents_test.XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    unlink((dir_ + "/file").c_str());
    rmdir(dir_.c_str());
  }
  std::string Write(const std::string& bytes) {
    const std::string path = dir_ + "/file";
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }
  std::string dir_;
};

TEST_F(FileContentsTest, ReadsEveryByte) {
  const std::string bytes("a\0b\nc\xff", 6);
  absl::StatusOr<std::string> read = ReadFileContents(Write(bytes));
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, bytes);
}

TEST_F(FileContentsTest, AnEmptyFileIsEmpty) {
  absl::StatusOr<std::string> read = ReadFileContents(Write(""));
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, "");
}

TEST_F(FileContentsTest, AMissingFileIsNotFoundNamingPathAndContext) {
  const std::string path = dir_ + "/missing";
  absl::StatusOr<std::string> read = ReadFileContents(path, "--key_file: ");
  EXPECT_EQ(read.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(read.status().message(),
              HasSubstr("--key_file: cannot read " + path + ": "));
  EXPECT_THAT(read.status().message(), HasSubstr("No such file"));
}

}  // namespace
}  // namespace bnmlp
