// One gRPC call over a raw HTTP/2 connection whose client never grants flow
// control window: the "client that stops reading" of issue 11, built by hand
// because no gRPC client library lets a caller withhold window.
//
// The connection advertises SETTINGS_INITIAL_WINDOW_SIZE = 0 and never sends
// WINDOW_UPDATE, so the server can send response headers but no DATA: its
// first message Write on the call blocks. Otherwise it behaves: it acks the
// server's SETTINGS and PINGs (so the server sees a live peer, not a dead
// one), and it can cancel the call (RST_STREAM CANCEL) like any client.
#ifndef BNMLP_TESTS_E2E_STALL_RAW_HTTP2_CALL_H_
#define BNMLP_TESTS_E2E_STALL_RAW_HTTP2_CALL_H_

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace bnmlp::testing {

// HPACK (RFC 7541) "literal header field without indexing, new name" with
// plain (not Huffman) strings: what this client sends for every header.
std::string HpackLiteral(const std::string& name, const std::string& value);

// An HTTP/2 frame header (RFC 9113 section 4.1) followed by `payload`.
std::string Http2Frame(uint8_t type, uint8_t flags, uint32_t stream_id,
                       const std::string& payload);

// Thread-safe: a reader thread answers the server; the test thread waits and
// cancels. The destructor closes the socket and joins the reader.
class RawHttp2Call {
 public:
  // Connects to 127.0.0.1:`port` and starts `method` (e.g.
  // "/bnmlp.v1.BnMlpService/Train") with one request message `request`
  // (serialized protobuf, at most 48 KiB so it fits the server's initial
  // receive window without waiting for its WINDOW_UPDATE).
  static absl::StatusOr<std::unique_ptr<RawHttp2Call>> Start(
      int port, const std::string& method, const std::string& request);

  ~RawHttp2Call();
  RawHttp2Call(const RawHttp2Call&) = delete;
  RawHttp2Call& operator=(const RawHttp2Call&) = delete;

  // Waits up to `timeout` for the server's response HEADERS on the call:
  // gRPC sends them with the first message, so once they are here the
  // server is blocked writing that message. True if they came.
  bool WaitForResponseHeaders(absl::Duration timeout);

  // Waits up to `timeout` for the call to end (the server resets the stream,
  // ends it with trailers, or closes the connection). Returns when it ended,
  // or nullopt on timeout.
  std::optional<absl::Time> WaitForEnd(absl::Duration timeout);

  // Cancels the call, as a client does on Ctrl-C.
  absl::Status Cancel();

  // How the call ended, for messages: "RST_STREAM error 8", "trailers",
  // "connection closed", or "" while it runs.
  std::string HowItEnded() const;

 private:
  explicit RawHttp2Call(int fd);
  absl::Status Send(const std::string& bytes);
  void ReadFrames();
  void MarkEnded(std::string how);

  const int fd_;
  std::mutex send_mu_;  // serializes writes to fd_; held for one send()
  mutable std::mutex mu_;
  std::condition_variable changed_;
  bool got_headers_ = false;         // guarded by mu_
  std::optional<absl::Time> ended_;  // guarded by mu_
  std::string how_ended_;            // guarded by mu_
  std::thread reader_;               // last: starts after the fields
};

}  // namespace bnmlp::testing

#endif  // BNMLP_TESTS_E2E_STALL_RAW_HTTP2_CALL_H_
