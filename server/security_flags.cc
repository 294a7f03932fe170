#include "server/security_flags.h"

#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "server/event_log.h"

ABSL_FLAG(std::string, tls_cert_file, "",
          "PEM certificate (chain) the server presents; with --tls_key_file "
          "turns TLS on. Empty: plaintext");
ABSL_FLAG(std::string, tls_key_file, "",
          "PEM private key of --tls_cert_file (unencrypted)");
ABSL_FLAG(std::string, tls_client_ca_file, "",
          "PEM CA certificate(s): when set, every client must present a "
          "certificate signed by one of them (mutual TLS)");
ABSL_FLAG(std::string, auth_tokens_file, "",
          "Bearer tokens, one 'TOKEN ROLE' per line (ROLE reader: Predict "
          "and every read; writer: everything). Clients send "
          "'authorization: Bearer TOKEN'. Health and reflection stay open. "
          "Empty: open on loopback; beyond loopback the server generates a "
          "writer token (see --generated_token_file)");
ABSL_FLAG(std::string, auth, "auto",
          "auto: tokens from --auth_tokens_file; without it, open on a "
          "loopback --listen_address and a generated writer token beyond "
          "loopback. none: no authentication on any address (explicitly "
          "open)");
ABSL_FLAG(std::string, generated_token_file, "",
          "Where a server listening beyond loopback without "
          "--auth_tokens_file keeps the writer token it generates (mode "
          "0600; reused at the next start). Empty: <model_dir>/server_token, "
          "or $HOME/.bnmlp/server_token without --model_dir");

namespace bnmlp {

absl::StatusOr<ServerSecurity> SecurityFromFlags(
    absl::string_view listen_address, absl::string_view model_dir) {
  SecurityOptions options;
  options.auth = absl::GetFlag(FLAGS_auth);
  options.auth_tokens_file = absl::GetFlag(FLAGS_auth_tokens_file);
  options.generated_token_file = absl::GetFlag(FLAGS_generated_token_file);
  options.tls_cert_file = absl::GetFlag(FLAGS_tls_cert_file);
  options.tls_key_file = absl::GetFlag(FLAGS_tls_key_file);
  options.tls_client_ca_file = absl::GetFlag(FLAGS_tls_client_ca_file);
  BNMLP_ASSIGN_OR_RETURN(ServerSecurity security,
                         ConfigureSecurity(options, listen_address, model_dir));
  if (!security.generated_token_file.empty()) {
    LogEvent(LogLevel::kWarning,
             absl::StrCat(security.generated_token_created
                              ? "event=auth_token_generated"
                              : "event=auth_token_reused",
                          " path=", security.generated_token_file,
                          " reason=\"listening beyond loopback without "
                          "--auth_tokens_file; clients need this file "
                          "(bnmlp --token_file), or run with --auth=none to "
                          "serve without authentication\""));
  }
  return security;
}

}  // namespace bnmlp
