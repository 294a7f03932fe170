#include "data/compressed_file.h"

#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/data/temp_files.h"

namespace bnmlp::data {
namespace {

using test_files::ReadRawFile;
using test_files::TempDir;
using ::testing::AllOf;
using ::testing::HasSubstr;

// Binary content with zero bytes and every byte value.
std::string SampleBytes(size_t size) {
  std::string bytes(size, '\0');
  for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>(i * 7 % 256);
  return bytes;
}

TEST(ReadMaybeCompressedFileTest, ReadsPlainFileAsIs) {
  TempDir dir;
  const std::string bytes = SampleBytes(1000);
  absl::StatusOr<FileContents> contents =
      ReadMaybeCompressedFile(dir.Write("plain.bin", bytes));
  ASSERT_TRUE(contents.ok()) << contents.status();
  EXPECT_FALSE(contents->gzip);
  EXPECT_EQ(contents->bytes, bytes);
}

TEST(ReadMaybeCompressedFileTest, DecompressesGzipFile) {
  TempDir dir;
  const std::string bytes = SampleBytes(1000);
  absl::StatusOr<FileContents> contents =
      ReadMaybeCompressedFile(dir.WriteGzip("data.gz", bytes));
  ASSERT_TRUE(contents.ok()) << contents.status();
  EXPECT_TRUE(contents->gzip);
  EXPECT_EQ(contents->bytes, bytes);
}

TEST(ReadMaybeCompressedFileTest, DetectsGzipByContentNotByName) {
  TempDir dir;
  const std::string bytes = SampleBytes(100);
  absl::StatusOr<FileContents> gzip_without_suffix =
      ReadMaybeCompressedFile(dir.WriteGzip("no_suffix", bytes));
  ASSERT_TRUE(gzip_without_suffix.ok()) << gzip_without_suffix.status();
  EXPECT_TRUE(gzip_without_suffix->gzip);
  EXPECT_EQ(gzip_without_suffix->bytes, bytes);

  absl::StatusOr<FileContents> plain_with_suffix =
      ReadMaybeCompressedFile(dir.Write("plain.gz", bytes));
  ASSERT_TRUE(plain_with_suffix.ok()) << plain_with_suffix.status();
  EXPECT_FALSE(plain_with_suffix->gzip);
  EXPECT_EQ(plain_with_suffix->bytes, bytes);
}

TEST(ReadMaybeCompressedFileTest, ReadsFilesLargerThanOneReadChunk) {
  TempDir dir;
  const std::string bytes = SampleBytes(9 << 20);  // the reader reads 8 MiB
  absl::StatusOr<FileContents> contents =
      ReadMaybeCompressedFile(dir.WriteGzip("large.gz", bytes));
  ASSERT_TRUE(contents.ok()) << contents.status();
  EXPECT_EQ(contents->bytes, bytes);
}

TEST(ReadMaybeCompressedFileTest, ReadsConcatenatedGzipMembers) {
  TempDir dir;
  const std::string first =
      ReadRawFile(dir.WriteGzip("first.gz", "first member, "));
  const std::string second =
      ReadRawFile(dir.WriteGzip("second.gz", "second member"));
  absl::StatusOr<FileContents> contents =
      ReadMaybeCompressedFile(dir.Write("both.gz", first + second));
  ASSERT_TRUE(contents.ok()) << contents.status();
  EXPECT_EQ(contents->bytes, "first member, second member");
}

TEST(ReadMaybeCompressedFileTest, ReadsEmptyFiles) {
  TempDir dir;
  absl::StatusOr<FileContents> plain =
      ReadMaybeCompressedFile(dir.Write("empty", ""));
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->bytes, "");
  absl::StatusOr<FileContents> gzip =
      ReadMaybeCompressedFile(dir.WriteGzip("empty.gz", ""));
  ASSERT_TRUE(gzip.ok()) << gzip.status();
  EXPECT_EQ(gzip->bytes, "");
}

// The CLI reads CSV from stdin, which may be a pipe: no size, no offsets.
absl::StatusOr<FileContents> ReadThroughPipe(const TempDir& dir,
                                             const std::string& bytes) {
  const std::string fifo = dir.PathOf("fifo");
  EXPECT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  std::thread writer([&] {
    std::ofstream out(fifo, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  });
  absl::StatusOr<FileContents> contents = ReadMaybeCompressedFile(fifo);
  writer.join();
  return contents;
}

TEST(ReadMaybeCompressedFileTest, ReadsPipes) {
  TempDir dir;
  const std::string bytes = SampleBytes(100000);
  const std::string gzip = ReadRawFile(dir.WriteGzip("data.gz", bytes));
  for (const std::string& sent : {bytes, gzip}) {
    absl::StatusOr<FileContents> contents = ReadThroughPipe(dir, sent);
    ASSERT_TRUE(contents.ok()) << contents.status();
    EXPECT_EQ(contents->bytes, bytes);
    std::remove(dir.PathOf("fifo").c_str());
  }
  absl::StatusOr<FileContents> truncated =
      ReadThroughPipe(dir, gzip.substr(0, gzip.size() - 4));
  EXPECT_EQ(truncated.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(truncated.status().message()),
              AllOf(HasSubstr(dir.PathOf("fifo") +
                              ": after 100000 "
                              "decompressed bytes: gzip stream is truncated"),
                    HasSubstr("expected")));
}

TEST(ReadMaybeCompressedFileTest, MissingFileIsNotFound) {
  TempDir dir;
  const std::string path = dir.PathOf("missing.gz");
  absl::StatusOr<FileContents> contents = ReadMaybeCompressedFile(path);
  EXPECT_EQ(contents.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(contents.status().message()),
              AllOf(HasSubstr(path), HasSubstr("No such file")));
}

TEST(ReadMaybeCompressedFileTest, DirectoryIsInvalidArgument) {
  TempDir dir;
  absl::StatusOr<FileContents> contents = ReadMaybeCompressedFile(dir.path());
  EXPECT_EQ(contents.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(contents.status().message()),
              AllOf(HasSubstr(dir.path()), HasSubstr("is a directory"),
                    HasSubstr("expected a data file")));
}

TEST(ReadMaybeCompressedFileTest, TruncatedGzipIsInvalidArgument) {
  TempDir dir;
  const std::string gzip =
      ReadRawFile(dir.WriteGzip("whole.gz", SampleBytes(5000)));
  // Cut inside the deflate data, and just before the 8-byte trailer.
  for (size_t keep : {gzip.size() / 2, gzip.size() - 4, size_t{5}}) {
    SCOPED_TRACE(keep);
    const std::string path = dir.Write("cut.gz", gzip.substr(0, keep));
    absl::StatusOr<FileContents> contents = ReadMaybeCompressedFile(path);
    EXPECT_EQ(contents.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(contents.status().message()),
                AllOf(HasSubstr(path), HasSubstr("compressed byte offset"),
                      HasSubstr("truncated"), HasSubstr("expected")));
  }
}

TEST(ReadMaybeCompressedFileTest, CorruptGzipIsInvalidArgument) {
  TempDir dir;
  const std::string gzip =
      ReadRawFile(dir.WriteGzip("whole.gz", SampleBytes(5000)));
  // A damaged deflate block, and an intact stream with a wrong CRC-32.
  std::string bad_block = gzip;
  for (size_t i = 10; i < 20; ++i) bad_block[i] = '\xff';
  std::string bad_crc = gzip;
  bad_crc[gzip.size() - 8] ^= 0x01;
  for (const std::string& corrupt : {bad_block, bad_crc}) {
    const std::string path = dir.Write("corrupt.gz", corrupt);
    absl::StatusOr<FileContents> contents = ReadMaybeCompressedFile(path);
    EXPECT_EQ(contents.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(contents.status().message()),
                AllOf(HasSubstr(path), HasSubstr("compressed byte offset"),
                      HasSubstr("corrupt gzip data"), HasSubstr("expected")));
  }
}

TEST(ReadMaybeCompressedFileTest, EnforcesTheSizeLimit) {
  TempDir dir;
  const std::string bytes = SampleBytes(100);
  for (const std::string& path :
       {dir.Write("plain", bytes), dir.WriteGzip("data.gz", bytes)}) {
    EXPECT_TRUE(ReadMaybeCompressedFile(path, /*max_bytes=*/100).ok());
    absl::StatusOr<FileContents> contents =
        ReadMaybeCompressedFile(path, /*max_bytes=*/99);
    EXPECT_EQ(contents.status().code(), absl::StatusCode::kResourceExhausted);
    EXPECT_THAT(std::string(contents.status().message()),
                AllOf(HasSubstr(path), HasSubstr("limit of 99 bytes")));
  }
}

TEST(ReadMaybeCompressedFileTest, NegativeLimitIsInvalidArgument) {
  TempDir dir;
  absl::StatusOr<FileContents> contents =
      ReadMaybeCompressedFile(dir.Write("plain", "x"), -1);
  EXPECT_EQ(contents.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(contents.status().message()), HasSubstr("max_bytes"));
}

}  // namespace
}  // namespace bnmlp::data
