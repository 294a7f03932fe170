#include "client/cli/connection_security.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/file_contents.h"
#include "common/status_macros.h"

namespace bnmlp::cli {
namespace {

absl::StatusOr<std::string> ReadFlagFile(absl::string_view flag,
                                         const std::string& path) {
  absl::StatusOr<std::string> text =
      ReadFileContents(path, absl::StrCat("--", flag, ": "));
  // A flag naming a file that cannot be read is a usage error here.
  if (!text.ok()) return absl::InvalidArgumentError(text.status().message());
  return text;
}

}  // namespace

absl::StatusOr<std::string> TokenFromFileText(absl::string_view text,
                                              absl::string_view source) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || absl::StartsWith(line, "#")) continue;
    const std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    return std::string(fields.front());
  }
  return absl::InvalidArgumentError(
      absl::StrCat(source,
                   " holds no token (expected the token on its first "
                   "line that is not blank or a # comment)"));
}

absl::StatusOr<client::ChannelSecurity> ChannelSecurityFromFlags(
    const ConnectionFlags& flags) {
  client::ChannelSecurity security;
  if (!flags.token_file.empty()) {
    BNMLP_ASSIGN_OR_RETURN(const std::string text,
                           ReadFlagFile("token_file", flags.token_file));
    BNMLP_ASSIGN_OR_RETURN(
        security.bearer_token,
        TokenFromFileText(text,
                          absl::StrCat("--token_file ", flags.token_file)));
  } else if (flags.token_environment.has_value()) {
    security.bearer_token =
        std::string(absl::StripAsciiWhitespace(*flags.token_environment));
    if (security.bearer_token.empty()) {
      return absl::InvalidArgumentError(
          "BNMLP_TOKEN is set but empty: unset it or put the token in it");
    }
  }
  if (flags.tls_cert_file.empty() != flags.tls_key_file.empty()) {
    return absl::InvalidArgumentError(
        flags.tls_cert_file.empty()
            ? "--tls_cert_file: missing; --tls_key_file needs the client "
              "certificate it belongs to"
            : "--tls_key_file: missing; --tls_cert_file needs its private key");
  }
  security.use_tls =
      flags.tls || !flags.tls_ca_file.empty() || !flags.tls_cert_file.empty();
  if (!flags.tls_ca_file.empty()) {
    BNMLP_ASSIGN_OR_RETURN(security.tls_root_certs,
                           ReadFlagFile("tls_ca_file", flags.tls_ca_file));
  }
  if (!flags.tls_cert_file.empty()) {
    BNMLP_ASSIGN_OR_RETURN(security.tls_cert_chain,
                           ReadFlagFile("tls_cert_file", flags.tls_cert_file));
    BNMLP_ASSIGN_OR_RETURN(security.tls_private_key,
                           ReadFlagFile("tls_key_file", flags.tls_key_file));
  }
  return security;
}

std::string ConnectionHint(const absl::Status& status,
                           const client::ChannelSecurity& security) {
  if (absl::IsUnauthenticated(status)) {
    return security.bearer_token.empty()
               ? "the server wants a token: pass --token_file or set "
                 "BNMLP_TOKEN"
               : "the server does not accept this token: check --token_file "
                 "or BNMLP_TOKEN (a token the server generated is in the "
                 "file its log names)";
  }
  if (absl::IsPermissionDenied(status)) {
    return "this needs a writer token: pass one with --token_file or "
           "BNMLP_TOKEN";
  }
  if (!absl::IsUnavailable(status)) return "";
  const std::string message = absl::AsciiStrToLower(status.message());
  const bool closed = absl::StrContains(message, "socket closed") ||
                      absl::StrContains(message, "connection reset") ||
                      absl::StrContains(message, "end of tcp stream");
  if (!security.use_tls) {
    return closed ? "the server closed the connection: if it uses TLS, pass "
                    "--tls_ca_file (or --tls to trust the system's CAs)"
                  : "";
  }
  if (absl::StrContains(message, "handshake") ||
      absl::StrContains(message, "ssl") ||
      absl::StrContains(message, "certificate")) {
    return "the TLS handshake failed: is the server using TLS? --tls_ca_file "
           "must name the CA that signed its certificate";
  }
  if (closed && security.tls_cert_chain.empty()) {
    return "the server closed the TLS connection: if it requires client "
           "certificates, pass --tls_cert_file and --tls_key_file";
  }
  return "";
}

}  // namespace bnmlp::cli
