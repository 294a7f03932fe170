#include "server/model_files.h"

#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bnmlp {
namespace {

using ::testing::HasSubstr;

// An ImportModel stream from a list of messages.
class FakeStream {
 public:
  explicit FakeStream(std::vector<v1::ImportModelRequest> messages)
      : messages_(std::move(messages)) {}
  bool Read(v1::ImportModelRequest* request) {
    if (next_ == messages_.size()) return false;
    *request = messages_[next_++];
    return true;
  }
  size_t read() const { return next_; }

 private:
  std::vector<v1::ImportModelRequest> messages_;
  size_t next_ = 0;
};

v1::ImportModelRequest Header(int64_t size, std::optional<uint32_t> crc) {
  v1::ImportModelRequest request;
  request.mutable_header()->set_name("m");
  request.mutable_header()->set_format(v1::FORMAT_ONNX);
  request.mutable_header()->set_size_bytes(size);
  if (crc.has_value()) request.mutable_header()->set_crc32(*crc);
  return request;
}

v1::ImportModelRequest Chunk(const std::string& bytes) {
  v1::ImportModelRequest request;
  request.set_chunk(bytes);
  return request;
}

absl::StatusOr<ReceivedModelFile> Receive(FakeStream& stream,
                                          int64_t max_bytes = 1 << 30) {
  return ReceiveModelFile(
      [&stream](v1::ImportModelRequest* r) { return stream.Read(r); },
      [](const v1::ImportModelHeader&) { return absl::OkStatus(); }, max_bytes);
}

void ExpectError(const absl::StatusOr<ReceivedModelFile>& file,
                 absl::StatusCode code, const std::string& message) {
  ASSERT_FALSE(file.ok()) << "expected " << message;
  EXPECT_EQ(file.status().code(), code) << file.status();
  EXPECT_THAT(file.status().message(), HasSubstr(message));
}

TEST(FileCrc32Test, IsZlibsCrc32) {
  // The CRC-32 check value of the standard (ISO-HDLC): crc("123456789").
  EXPECT_EQ(FileCrc32("123456789"), 0xCBF43926u);
  EXPECT_EQ(FileCrc32(""), 0u);
}

TEST(MaxModelFileBytesTest, SixteenBytesPerParameterPlusOneMiBBelow2GiB) {
  EXPECT_EQ(MaxModelFileBytes(1000), 16000 + (1 << 20));
  EXPECT_EQ(MaxModelFileBytes(int64_t{1} << 31), (int64_t{1} << 31) - 1);
}

TEST(ReceiveModelFileTest, CollectsChunksAndChecksSizeAndCrc) {
  FakeStream stream(
      {Header(6, FileCrc32("abcdef")), Chunk("abc"), Chunk(""), Chunk("def")});
  absl::StatusOr<ReceivedModelFile> file = Receive(stream);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->bytes, "abcdef");
  EXPECT_EQ(file->header.name(), "m");
}

TEST(ReceiveModelFileTest, SizeAndCrcAreOptional) {
  FakeStream stream({Header(0, std::nullopt), Chunk("abc")});
  absl::StatusOr<ReceivedModelFile> file = Receive(stream);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->bytes, "abc");
}

TEST(ReceiveModelFileTest, RefusesBadStreams) {
  const auto invalid = absl::StatusCode::kInvalidArgument;
  FakeStream empty({});
  ExpectError(Receive(empty), invalid, "before its first message");
  FakeStream chunk_first({Chunk("abc")});
  ExpectError(Receive(chunk_first), invalid,
              "first message must be the header");
  FakeStream two_headers({Header(0, std::nullopt), Header(0, std::nullopt)});
  ExpectError(Receive(two_headers), invalid, "message 1 is a second header");
  FakeStream no_chunks({Header(0, std::nullopt)});
  ExpectError(Receive(no_chunks), invalid, "the file is empty");
  FakeStream negative({Header(-1, std::nullopt)});
  ExpectError(Receive(negative), invalid, "header.size_bytes: expected >= 0");
  FakeStream big_chunk({Header(0, std::nullopt),
                        Chunk(std::string(kModelFileChunkBytes + 1, 'x'))});
  ExpectError(Receive(big_chunk), invalid, "expected at most 1048576 bytes");
  FakeStream short_stream({Header(10, std::nullopt), Chunk("abc")});
  ExpectError(Receive(short_stream), invalid,
              "ended after 3 bytes, short of header.size_bytes (10)");
  FakeStream long_stream({Header(4, std::nullopt), Chunk("abc"), Chunk("de"),
                          Chunk("never read")});
  ExpectError(Receive(long_stream), invalid, "runs longer than");
  EXPECT_EQ(long_stream.read(), 3u);
  FakeStream corrupt({Header(3, FileCrc32("abd")), Chunk("abc")});
  ExpectError(Receive(corrupt), invalid, "header.crc32");
}

TEST(ReceiveModelFileTest, LimitsAreResourceExhaustedBeforeStoring) {
  const auto exhausted = absl::StatusCode::kResourceExhausted;
  FakeStream declared({Header(100, std::nullopt), Chunk("never read")});
  ExpectError(Receive(declared, /*max_bytes=*/50), exhausted,
              "the file has 100 bytes");
  EXPECT_EQ(declared.read(), 1u);
  FakeStream sent({Header(0, std::nullopt), Chunk(std::string(30, 'x')),
                   Chunk(std::string(30, 'x')), Chunk("never read")});
  ExpectError(Receive(sent, /*max_bytes=*/50), exhausted, "exceeds 50 bytes");
  EXPECT_EQ(sent.read(), 3u);
}

TEST(ReceiveModelFileTest, TheHeaderCheckRunsBeforeAnyChunk) {
  FakeStream stream({Header(0, std::nullopt), Chunk("never read")});
  const absl::StatusOr<ReceivedModelFile> file = ReceiveModelFile(
      [&stream](v1::ImportModelRequest* r) { return stream.Read(r); },
      [](const v1::ImportModelHeader& h) {
        return absl::AlreadyExistsError(h.name());
      },
      1 << 20);
  EXPECT_EQ(file.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(stream.read(), 1u);
}

TEST(SendModelFileTest, SendsChunksWithTheFiguresFirst) {
  const std::string file(2 * kModelFileChunkBytes + 5, 'q');
  std::vector<v1::ExportModelResponse> sent;
  ASSERT_TRUE(SendModelFile(file, 7, [&](const v1::ExportModelResponse& r) {
                sent.push_back(r);
                return true;
              }).ok());
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[0].size_bytes(), static_cast<int64_t>(file.size()));
  EXPECT_EQ(sent[0].version(), 7);
  EXPECT_EQ(sent[0].crc32(), FileCrc32(file));
  std::string joined;
  for (size_t i = 0; i < sent.size(); ++i) {
    EXPECT_LE(static_cast<int64_t>(sent[i].chunk().size()),
              kModelFileChunkBytes);
    if (i > 0) {
      EXPECT_EQ(sent[i].size_bytes(), 0);
      EXPECT_EQ(sent[i].version(), 0);
    }
    joined += sent[i].chunk();
  }
  EXPECT_EQ(joined, file);
}

TEST(SendModelFileTest, AFailedWriteIsCancelled) {
  int writes = 0;
  const absl::Status status = SendModelFile(
      std::string(3 * kModelFileChunkBytes, 'q'), 1,
      [&](const v1::ExportModelResponse&) { return ++writes < 2; });
  EXPECT_EQ(status.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(writes, 2);
}

}  // namespace
}  // namespace bnmlp
