#include "common/file_contents.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/data/temp_files.h"

namespace bnmlp {
namespace {

using ::testing::HasSubstr;

class FileContentsTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& bytes) {
    return temp_dir_.Write("file", bytes);
  }
  const data::test_files::TempDir temp_dir_;
  const std::string dir_ = temp_dir_.path();
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
