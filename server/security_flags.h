// bnmlp-server's TLS and authentication flags (--tls_cert_file, --auth, ...;
// docs/security.md), read into ServerSecurity.
#ifndef BNMLP_SERVER_SECURITY_FLAGS_H_
#define BNMLP_SERVER_SECURITY_FLAGS_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/server_security.h"

namespace bnmlp {

// ConfigureSecurity() on the flags; logs where a generated token is (never
// the token itself).
absl::StatusOr<ServerSecurity> SecurityFromFlags(
    absl::string_view listen_address, absl::string_view model_dir);

}  // namespace bnmlp

#endif  // BNMLP_SERVER_SECURITY_FLAGS_H_
