// Bearer-token authentication with two roles, as the RpcAdmission of every
// BnMlpService call (server/rpc_call.h). Health and reflection do not go
// through it: they stay open for probes.
//
// Tokens come from a tokens file, one `TOKEN ROLE` per line:
//   # comment lines and blank lines are ignored
//   9f2c...e1 writer
//   77ab...03 reader
// A reader may make every call that only reads (server/rpc_access.h); a
// writer may make every call. Clients send `authorization: Bearer TOKEN`
// metadata. Tokens are kept only as SHA-256 digests, compared in constant
// time, and never logged or quoted: logs and messages name a token by its
// fingerprint, the first 8 hex digits of its SHA-256
// (`printf %s TOKEN | sha256sum | cut -c1-8`).
#ifndef BNMLP_SERVER_TOKEN_AUTH_H_
#define BNMLP_SERVER_TOKEN_AUTH_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/rpc_call.h"

namespace bnmlp {

enum class Role { kReader, kWriter };

// "reader" or "writer".
absl::string_view RoleName(Role role);

// The first 8 hex digits of SHA-256(token): names a token in logs without
// revealing it.
std::string TokenFingerprint(absl::string_view token);

// Random 256-bit token from the system's CSPRNG, as 64 hex digits.
absl::StatusOr<std::string> GenerateToken();

// Immutable after construction; Admit is thread-safe.
class TokenAuthenticator final : public RpcAdmission {
 public:
  // Parses a tokens file's text. `source` (the file's path) heads error
  // messages, which name the line and what is wrong but never quote a
  // token. INVALID_ARGUMENT on a malformed line, an unknown role, a token
  // shorter than 16 or longer than 4096 characters or with characters
  // outside printable ASCII, a token listed twice, or no token at all.
  static absl::StatusOr<std::unique_ptr<TokenAuthenticator>> FromText(
      absl::string_view text, absl::string_view source);
  // FromText on the file at `path`; NOT_FOUND / PERMISSION_DENIED naming
  // `flag` and the path if it cannot be read.
  static absl::StatusOr<std::unique_ptr<TokenAuthenticator>> FromFile(
      const std::string& path, absl::string_view flag);

  // Authorize() on the call's `authorization` metadata.
  absl::Status Admit(const grpc::ServerContextBase& context,
                     absl::string_view method,
                     std::string* caller) const override;

  // OK if `authorization` (the metadata's value; nullopt if absent) is
  // "Bearer TOKEN" for a known token whose role may make `method`.
  // UNAUTHENTICATED if it is absent, malformed or an unknown token;
  // PERMISSION_DENIED for a reader calling a method that writes. Sets
  // `*caller` to "ROLE:FINGERPRINT" once the token is known (also when
  // refused), "unknown:FINGERPRINT" for an unknown token.
  absl::Status Authorize(std::optional<absl::string_view> authorization,
                         absl::string_view method, std::string* caller) const;

  int readers() const { return Count(Role::kReader); }
  int writers() const { return Count(Role::kWriter); }

 private:
  using Digest = std::array<uint8_t, 32>;
  struct Entry {
    Digest digest;
    Role role;
  };
  explicit TokenAuthenticator(std::vector<Entry> entries)
      : entries_(std::move(entries)) {}
  // The role of the token whose digest is `digest`, looking at every entry
  // whatever matches, so the time taken does not depend on which does.
  std::optional<Role> FindRole(const Digest& digest) const;
  int Count(Role role) const;

  const std::vector<Entry> entries_;
};

}  // namespace bnmlp

#endif  // BNMLP_SERVER_TOKEN_AUTH_H_
