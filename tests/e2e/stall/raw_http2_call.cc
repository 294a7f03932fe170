#include "tests/e2e/stall/raw_http2_call.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/memory/memory.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace bnmlp::testing {
namespace {

// RFC 9113 frame types and flags.
constexpr uint8_t kData = 0x0;
constexpr uint8_t kHeaders = 0x1;
constexpr uint8_t kRstStream = 0x3;
constexpr uint8_t kSettings = 0x4;
constexpr uint8_t kPing = 0x6;
constexpr uint8_t kGoAway = 0x7;
constexpr uint8_t kEndStream = 0x1;
constexpr uint8_t kAck = 0x1;
constexpr uint8_t kEndHeaders = 0x4;
constexpr uint16_t kSettingsEnablePush = 0x2;
constexpr uint16_t kSettingsInitialWindowSize = 0x4;
constexpr uint32_t kCancel = 0x8;
constexpr uint32_t kStream = 1;  // the one call on this connection
constexpr size_t kMaxFramePayload = 16384;
constexpr size_t kMaxRequestBytes = 48 * 1024;
constexpr char kPreface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

void AppendBigEndian(uint64_t value, int bytes, std::string& out) {
  for (int i = bytes - 1; i >= 0; --i) {
    out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
  }
}

uint32_t ReadBigEndian(const unsigned char* p, int bytes) {
  uint32_t value = 0;
  for (int i = 0; i < bytes; ++i) value = (value << 8) | p[i];
  return value;
}

// RFC 7541 section 5.1, with a 7-bit prefix and the Huffman bit clear.
void AppendHpackString(const std::string& s, std::string& out) {
  uint64_t length = s.size();
  if (length < 127) {
    out.push_back(static_cast<char>(length));
  } else {
    out.push_back(static_cast<char>(127));
    length -= 127;
    while (length >= 128) {
      out.push_back(static_cast<char>(0x80 | (length & 0x7f)));
      length >>= 7;
    }
    out.push_back(static_cast<char>(length));
  }
  out += s;
}

std::string SettingsPayload() {
  std::string payload;
  AppendBigEndian(kSettingsEnablePush, 2, payload);
  AppendBigEndian(0, 4, payload);
  AppendBigEndian(kSettingsInitialWindowSize, 2, payload);
  AppendBigEndian(0, 4, payload);  // the point: no window, ever
  return payload;
}

absl::Status ErrnoError(const std::string& what) {
  return absl::UnavailableError(absl::StrCat(what, ": ", std::strerror(errno)));
}

absl::Status SendAll(int fd, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n =
        send(fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("send");
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

// False at the end of the connection, with why in `why`.
bool ReadExactly(int fd, unsigned char* buffer, size_t size, std::string& why) {
  size_t done = 0;
  while (done < size) {
    const ssize_t n = recv(fd, buffer + done, size - done, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      why = n == 0 ? "end of file" : std::strerror(errno);
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

std::string HpackLiteral(const std::string& name, const std::string& value) {
  std::string out(1, '\0');  // literal without indexing, new name
  AppendHpackString(name, out);
  AppendHpackString(value, out);
  return out;
}

std::string Http2Frame(uint8_t type, uint8_t flags, uint32_t stream_id,
                       const std::string& payload) {
  std::string frame;
  AppendBigEndian(payload.size(), 3, frame);
  frame.push_back(static_cast<char>(type));
  frame.push_back(static_cast<char>(flags));
  AppendBigEndian(stream_id & 0x7fffffff, 4, frame);
  return frame + payload;
}

absl::StatusOr<std::unique_ptr<RawHttp2Call>> RawHttp2Call::Start(
    int port, const std::string& method, const std::string& request) {
  if (request.size() > kMaxRequestBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("request of ", request.size(), " bytes; at most ",
                     kMaxRequestBytes, " fit the server's initial window"));
  }
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ErrnoError("socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&address),
              sizeof(address)) != 0) {
    const absl::Status error = ErrnoError(absl::StrCat("connect to ", port));
    close(fd);
    return error;
  }
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

  std::string message(1, '\0');  // gRPC framing: uncompressed, then length
  AppendBigEndian(request.size(), 4, message);
  message += request;
  std::string bytes = kPreface;
  bytes += Http2Frame(kSettings, 0, 0, SettingsPayload());
  bytes += Http2Frame(
      kHeaders, kEndHeaders, kStream,
      HpackLiteral(":method", "POST") + HpackLiteral(":scheme", "http") +
          HpackLiteral(":path", method) +
          HpackLiteral(":authority", absl::StrCat("127.0.0.1:", port)) +
          HpackLiteral("content-type", "application/grpc") +
          HpackLiteral("te", "trailers"));
  for (size_t offset = 0; offset < message.size(); offset += kMaxFramePayload) {
    const bool last = offset + kMaxFramePayload >= message.size();
    bytes += Http2Frame(kData, last ? kEndStream : 0, kStream,
                        message.substr(offset, kMaxFramePayload));
  }
  // All of it goes out before the reader starts: the server sends its
  // SETTINGS at once, and acking them ahead of our preface would be a
  // protocol error that closes the connection.
  if (absl::Status sent = SendAll(fd, bytes); !sent.ok()) {
    close(fd);
    return sent;
  }
  return absl::WrapUnique(new RawHttp2Call(fd));
}

RawHttp2Call::RawHttp2Call(int fd)
    : fd_(fd), reader_([this] { ReadFrames(); }) {}

RawHttp2Call::~RawHttp2Call() {
  shutdown(fd_, SHUT_RDWR);  // wakes the reader's recv
  reader_.join();
  close(fd_);
}

absl::Status RawHttp2Call::Send(const std::string& bytes) {
  std::lock_guard<std::mutex> lock(send_mu_);
  return SendAll(fd_, bytes);
}

void RawHttp2Call::ReadFrames() {
  unsigned char header[9];
  std::string payload;
  std::string go_away;  // the server's GOAWAY, if it sent one
  std::string why;
  std::string seen;  // frame types received, for the message
  while (ReadExactly(fd_, header, sizeof(header), why)) {
    const uint32_t length = ReadBigEndian(header, 3);
    const uint8_t type = header[3];
    const uint8_t flags = header[4];
    const uint32_t stream = ReadBigEndian(header + 5, 4) & 0x7fffffff;
    absl::StrAppend(&seen, seen.empty() ? "" : ",", type);
    payload.resize(length);
    if (length > 0 &&
        !ReadExactly(fd_, reinterpret_cast<unsigned char*>(payload.data()),
                     length, why)) {
      break;
    }
    if (type == kSettings && !(flags & kAck)) {
      (void)Send(Http2Frame(kSettings, kAck, 0, ""));
    } else if (type == kPing && !(flags & kAck)) {
      (void)Send(Http2Frame(kPing, kAck, 0, payload));
    } else if (type == kHeaders && stream == kStream) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        got_headers_ = true;
      }
      changed_.notify_all();
      if (flags & kEndStream) MarkEnded("trailers");
    } else if (type == kData && stream == kStream && (flags & kEndStream)) {
      MarkEnded("end of stream");
    } else if (type == kGoAway && length >= 8) {
      const auto* p = reinterpret_cast<const unsigned char*>(payload.data());
      go_away = absl::StrCat(" after GOAWAY error ", ReadBigEndian(p + 4, 4),
                             " \"", payload.substr(8, 200), "\"");
    } else if (type == kRstStream && stream == kStream && length == 4) {
      MarkEnded(absl::StrCat(
          "RST_STREAM error ",
          ReadBigEndian(reinterpret_cast<const unsigned char*>(payload.data()),
                        4)));
    }
  }
  MarkEnded(absl::StrCat("connection closed (", why, ") after frames [", seen,
                         "]", go_away));
}

void RawHttp2Call::MarkEnded(std::string how) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (ended_.has_value()) return;
    ended_ = absl::Now();
    how_ended_ = std::move(how);
  }
  changed_.notify_all();
}

bool RawHttp2Call::WaitForResponseHeaders(absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return changed_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                           [this] { return got_headers_; });
}

std::optional<absl::Time> RawHttp2Call::WaitForEnd(absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                    [this] { return ended_.has_value(); });
  return ended_;
}

absl::Status RawHttp2Call::Cancel() {
  std::string code;
  AppendBigEndian(kCancel, 4, code);
  return Send(Http2Frame(kRstStream, 0, kStream, code));
}

std::string RawHttp2Call::HowItEnded() const {
  std::lock_guard<std::mutex> lock(mu_);
  return how_ended_;
}

}  // namespace bnmlp::testing
