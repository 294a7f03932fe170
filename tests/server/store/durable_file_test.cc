#include "server/store/durable_file.h"

#include <dirent.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/data/temp_files.h"

namespace bnmlp {
namespace {

using ::testing::HasSubstr;

constexpr absl::string_view kMagic = "TESTFILE";

class DurableFileTest : public ::testing::Test {
 protected:
  std::vector<std::string> Entries() const {
    std::vector<std::string> names;
    DIR* dir = opendir(dir_.c_str());
    if (dir == nullptr) return names;
    while (dirent* entry = readdir(dir)) {
      const std::string name = entry->d_name;
      if (name != "." && name != "..") names.push_back(name);
    }
    closedir(dir);
    return names;
  }
  std::string Bytes(const std::string& path) const {
    std::ifstream file(path, std::ios::binary);
    std::stringstream out;
    out << file.rdbuf();
    return out.str();
  }
  void Overwrite(const std::string& path, const std::string& bytes) const {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  }
  absl::StatusOr<std::string> Read(const std::string& path,
                                   uint64_t max_payload = 1 << 20) const {
    return ReadDurableFile(path, kMagic, 1, 2, max_payload);
  }
  const data::test_files::TempDir temp_dir_;
  const std::string dir_ = temp_dir_.path();
};

TEST_F(DurableFileTest, RoundTripsThePayloadWithItsVersion) {
  const std::string path = dir_ + "/a";
  const std::string payload("hello\0world", 11);
  ASSERT_TRUE(WriteDurableFile(path, kMagic, 2, payload).ok());
  FrameInfo info;
  absl::StatusOr<std::string> read =
      ReadDurableFile(path, kMagic, 1, 2, 1 << 20, &info);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, payload);
  EXPECT_EQ(info.version, 2u);
  EXPECT_EQ(info.payload_size, payload.size());
  EXPECT_EQ(Bytes(path).size(),
            kFrameHeaderSize + payload.size() + kFrameTrailerSize);
  // Only the final file remains: no temporary is left behind.
  EXPECT_THAT(Entries(), ::testing::ElementsAre("a"));
}

TEST_F(DurableFileTest, StreamedAppendsEqualOneWrite) {
  const std::string path = dir_ + "/streamed";
  absl::StatusOr<std::unique_ptr<DurableFileWriter>> writer =
      DurableFileWriter::Open(path, kMagic, 1, 6);
  ASSERT_TRUE(writer.ok()) << writer.status();
  ASSERT_TRUE((*writer)->Append("abc").ok());
  ASSERT_TRUE((*writer)->Append("def").ok());
  ASSERT_TRUE((*writer)->Commit().ok());
  EXPECT_EQ(*Read(path), "abcdef");
}

TEST_F(DurableFileTest, AnUncommittedWriterLeavesTheOldFileAndNoTemporary) {
  const std::string path = dir_ + "/kept";
  ASSERT_TRUE(WriteDurableFile(path, kMagic, 1, "old").ok());
  {
    absl::StatusOr<std::unique_ptr<DurableFileWriter>> writer =
        DurableFileWriter::Open(path, kMagic, 1, 3);
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Append("new").ok());
    EXPECT_EQ(Entries().size(), 2u);  // the final file and the temporary
  }
  EXPECT_EQ(*Read(path), "old");
  EXPECT_THAT(Entries(), ::testing::ElementsAre("kept"));
}

TEST_F(DurableFileTest, APayloadOfTheWrongLengthIsNotCommitted) {
  const std::string path = dir_ + "/short";
  absl::StatusOr<std::unique_ptr<DurableFileWriter>> writer =
      DurableFileWriter::Open(path, kMagic, 1, 10);
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Append("abc").ok());
  EXPECT_EQ((*writer)->Commit().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*writer)->Append(std::string(20, 'x')).code(),
            absl::StatusCode::kFailedPrecondition);
  writer->reset();
  EXPECT_EQ(Read(path).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(DurableFileTest, EveryTruncationIsDetected) {
  const std::string path = dir_ + "/t";
  ASSERT_TRUE(WriteDurableFile(path, kMagic, 1, "some payload bytes").ok());
  const std::string whole = Bytes(path);
  for (size_t size = 0; size < whole.size(); ++size) {
    Overwrite(path, whole.substr(0, size));
    const absl::Status status = Read(path).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << size;
    EXPECT_THAT(status.message(), HasSubstr(path)) << size;
  }
}

TEST_F(DurableFileTest, EveryFlippedPayloadOrTrailerBitIsDetected) {
  const std::string path = dir_ + "/f";
  ASSERT_TRUE(WriteDurableFile(path, kMagic, 1, "payload").ok());
  const std::string whole = Bytes(path);
  for (size_t byte = kFrameHeaderSize; byte < whole.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string damaged = whole;
      damaged[byte] = static_cast<char>(damaged[byte] ^ (1 << bit));
      Overwrite(path, damaged);
      EXPECT_EQ(Read(path).status().code(), absl::StatusCode::kDataLoss)
          << "byte " << byte << " bit " << bit;
    }
  }
}

TEST_F(DurableFileTest, WrongMagicVersionOrAbsurdLengthAreRefused) {
  const std::string path = dir_ + "/h";
  ASSERT_TRUE(WriteDurableFile(path, "OTHERMAG", 1, "x").ok());
  EXPECT_THAT(Read(path).status().message(), HasSubstr("not a 'TESTFILE'"));
  ASSERT_TRUE(WriteDurableFile(path, kMagic, 7, "x").ok());
  EXPECT_EQ(Read(path).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(Read(path).status().message(), HasSubstr("format version 7"));
  // A damaged length field: the size check refuses it, nothing is allocated.
  ASSERT_TRUE(WriteDurableFile(path, kMagic, 1, "x").ok());
  std::string damaged = Bytes(path);
  damaged[kMagicSize + 4 + 7] = '\x7f';
  Overwrite(path, damaged);
  EXPECT_EQ(Read(path).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(Read(path, /*max_payload=*/0).status().code(),
            absl::StatusCode::kResourceExhausted);
}

TEST_F(DurableFileTest, ParsesAFrameHeldInMemory) {
  const std::string path = dir_ + "/m";
  ASSERT_TRUE(WriteDurableFile(path, kMagic, 1, "in memory").ok());
  const std::string bytes = Bytes(path);
  absl::StatusOr<absl::string_view> payload =
      ParseDurableFrame(bytes, kMagic, 1, 1);
  ASSERT_TRUE(payload.ok()) << payload.status();
  EXPECT_EQ(*payload, "in memory");
  EXPECT_EQ(ParseDurableFrame(bytes.substr(0, bytes.size() - 1), kMagic, 1, 1)
                .status()
                .code(),
            absl::StatusCode::kDataLoss);
}

TEST_F(DurableFileTest, AnUnwritableDirectoryNamesThePath) {
  const absl::Status status =
      WriteDurableFile(dir_ + "/missing/x", kMagic, 1, "x");
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(status.message(), HasSubstr(dir_ + "/missing/x"));
}

TEST_F(DurableFileTest, RenameDurablyMovesAFile) {
  ASSERT_TRUE(WriteDurableFile(dir_ + "/from", kMagic, 1, "moved").ok());
  ASSERT_TRUE(RenameDurably(dir_ + "/from", dir_ + "/to").ok());
  EXPECT_EQ(*Read(dir_ + "/to"), "moved");
  EXPECT_EQ(Read(dir_ + "/from").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace bnmlp
