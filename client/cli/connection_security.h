// The CLI's connection flags (--token_file / $BNMLP_TOKEN, --tls,
// --tls_ca_file, --tls_cert_file, --tls_key_file) as the channel's
// security, and the hint that names the flag a failed call was missing.
#ifndef BNMLP_CLIENT_CLI_CONNECTION_SECURITY_H_
#define BNMLP_CLIENT_CLI_CONNECTION_SECURITY_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/client_channel.h"

namespace bnmlp::cli {

struct ConnectionFlags {
  std::string token_file;
  std::optional<std::string> token_environment;  // $BNMLP_TOKEN, if set
  bool tls = false;
  std::string tls_ca_file;
  std::string tls_cert_file;
  std::string tls_key_file;
};

// The token in a token file: the first field of its first line that is
// neither blank nor a comment, so both a file holding just the token and a
// server's tokens file ("TOKEN ROLE", e.g. the one it generates) work.
// INVALID_ARGUMENT naming `source` if there is none.
absl::StatusOr<std::string> TokenFromFileText(absl::string_view text,
                                              absl::string_view source);

// Reads the files the flags name. --token_file wins over $BNMLP_TOKEN. TLS
// is on with --tls or any --tls_* file. INVALID_ARGUMENT naming the flag for
// a missing or unreadable file, a client certificate without its key (or
// the reverse), or an empty token.
absl::StatusOr<client::ChannelSecurity> ChannelSecurityFromFlags(
    const ConnectionFlags& flags);

// What to try when a call failed with `status` on a connection set up with
// `security`, naming the flag; "" when the status says nothing about it.
std::string ConnectionHint(const absl::Status& status,
                           const client::ChannelSecurity& security);

}  // namespace bnmlp::cli

#endif  // BNMLP_CLIENT_CLI_CONNECTION_SECURITY_H_
