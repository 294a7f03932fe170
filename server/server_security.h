// How a server protects its port, from its options: TLS (optionally with
// required client certificates) and bearer-token authentication. The rule
// that a server never runs open by accident lives here:
//   - a tokens file given: tokens are required (on any address);
//   - none given, listening on loopback (127.0.0.0/8, ::1, localhost, unix
//     sockets): open, as the demo and tests expect;
//   - none given, listening beyond loopback: the server makes a writer
//     token (server/generated_token.h) and requires it;
//   - auth "none": open on any address, explicitly.
// Health and reflection stay open in every case.
#ifndef BNMLP_SERVER_SERVER_SECURITY_H_
#define BNMLP_SERVER_SERVER_SECURITY_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/security/server_credentials.h"
#include "server/rpc_call.h"

namespace bnmlp {

struct SecurityOptions {
  // "auto" (the rules above) or "none" (no authentication).
  std::string auth = "auto";
  // Lines of "TOKEN ROLE" (server/token_auth.h); empty: see the rules.
  std::string auth_tokens_file;
  // Where a generated token goes; empty: DefaultGeneratedTokenPath().
  std::string generated_token_file;
  // PEM files. Certificate and key come together; with a client CA, every
  // client must present a certificate it signed (mTLS).
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_client_ca_file;
};

struct ServerSecurity {
  // TLS or plaintext credentials for the listening port; never null.
  std::shared_ptr<grpc::ServerCredentials> credentials;
  bool tls = false;  // whether `credentials` are TLS
  // Token authentication; null when the server runs open.
  std::shared_ptr<const RpcAdmission> admission;
  // For the startup log line, e.g. "tls=on client_certs=required
  // auth=tokens writers=1 readers=2".
  std::string summary;
  // The file holding the generated writer token, when one was needed.
  std::string generated_token_file;
  bool generated_token_created = false;
};

// Whether `listen_address` (host:port, [v6]:port or unix:path) is reachable
// only from this machine.
bool IsLoopbackAddress(absl::string_view listen_address);

// Reads and checks every file the options name. INVALID_ARGUMENT naming the
// flag (--tls_key_file, --auth, ...) when the options contradict each other
// or a file is malformed (a certificate that is not PEM, a key that does not
// match the certificate, a bad tokens file); NOT_FOUND / PERMISSION_DENIED
// for files that cannot be read; the errors of EnsureGeneratedTokenFile.
// `model_dir` is where a generated token goes by default.
absl::StatusOr<ServerSecurity> ConfigureSecurity(
    const SecurityOptions& options, absl::string_view listen_address,
    absl::string_view model_dir);

}  // namespace bnmlp

#endif  // BNMLP_SERVER_SERVER_SECURITY_H_
