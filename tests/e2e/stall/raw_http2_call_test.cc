// The hand-built HTTP/2 bytes of RawHttp2Call, checked against RFC 7541's
// and RFC 9113's own examples and encodings.
#include "tests/e2e/stall/raw_http2_call.h"

#include <string>

#include "gtest/gtest.h"

namespace bnmlp::testing {
namespace {

TEST(HpackLiteralTest, MatchesRfc7541ExampleC22) {
  // RFC 7541 C.2.2 encodes ":path: /sample/path" as a literal without
  // indexing of the indexed name 4; ours always spells the name out.
  EXPECT_EQ(HpackLiteral(":path", "/sample/path"),
            std::string("\x00\x05:path\x0c/sample/path", 20));
}

TEST(HpackLiteralTest, LongStringsUseTheMultiByteLengthPrefix) {
  // RFC 7541 section 5.1: 300 with a 7-bit prefix is 0x7f, then 300 - 127 =
  // 173 in 7-bit groups, least significant first: 0xad 0x01.
  const std::string value(300, 'v');
  const std::string encoded = HpackLiteral("n", value);
  ASSERT_EQ(encoded.size(), 1 + 2 + 3 + value.size());
  EXPECT_EQ(encoded.substr(0, 6), std::string("\x00\x01n\x7f\xad\x01", 6));
  EXPECT_EQ(encoded.substr(6), value);
}

TEST(Http2FrameTest, HeaderIsLengthTypeFlagsAndStream) {
  EXPECT_EQ(Http2Frame(0x3, 0x0, 1, std::string("\x00\x00\x00\x08", 4)),
            std::string("\x00\x00\x04\x03\x00\x00\x00\x00\x01"
                        "\x00\x00\x00\x08",
                        13));
  // The reserved high bit of the stream id is never set.
  EXPECT_EQ(Http2Frame(0x4, 0x1, 0x80000005u, "").substr(5),
            std::string("\x00\x00\x00\x05", 4));
}

}  // namespace
}  // namespace bnmlp::testing
