#include "server/token_auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/file_contents.h"
#include "common/status_macros.h"
#include "server/rpc_access.h"

namespace bnmlp {
namespace {

constexpr size_t kMinTokenLength = 16;
constexpr size_t kMaxTokenLength = 4096;
constexpr absl::string_view kBearer = "Bearer ";

std::array<uint8_t, 32> Sha256(absl::string_view text) {
  std::array<uint8_t, 32> digest{};
  unsigned int length = 0;
  // EVP_Digest cannot fail for SHA-256 on in-memory input short of memory
  // exhaustion; the digest then stays zero and matches no token.
  EVP_Digest(text.data(), text.size(), digest.data(), &length, EVP_sha256(),
             nullptr);
  return digest;
}

bool IsTokenCharacter(char c) { return c > ' ' && c <= '~'; }

absl::Status CheckToken(absl::string_view token) {
  if (token.size() < kMinTokenLength || token.size() > kMaxTokenLength) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a token must have ", kMinTokenLength, " to ", kMaxTokenLength,
        " characters, this one has ", token.size()));
  }
  for (const char c : token) {
    if (!IsTokenCharacter(c)) {
      return absl::InvalidArgumentError(
          "a token may hold only printable ASCII characters other than "
          "space");
    }
  }
  return absl::OkStatus();
}

std::optional<Role> ParseRole(absl::string_view name) {
  if (name == "reader") return Role::kReader;
  if (name == "writer") return Role::kWriter;
  return std::nullopt;
}

std::string Shown(absl::string_view text) {
  constexpr size_t kShown = 32;
  if (text.size() <= kShown) return absl::CHexEscape(text);
  return absl::StrCat(absl::CHexEscape(text.substr(0, kShown)), "... (",
                      text.size() - kShown, " more bytes)");
}

}  // namespace

absl::string_view RoleName(Role role) {
  return role == Role::kReader ? "reader" : "writer";
}

std::string TokenFingerprint(absl::string_view token) {
  const std::array<uint8_t, 32> digest = Sha256(token);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest.data()), 4));
}

absl::StatusOr<std::string> GenerateToken() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    return absl::InternalError("cannot draw random bytes for a token");
  }
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
}

absl::StatusOr<std::unique_ptr<TokenAuthenticator>>
TokenAuthenticator::FromText(absl::string_view text, absl::string_view source) {
  std::vector<Entry> entries;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || absl::StartsWith(line, "#")) continue;
    const std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    const std::string where = absl::StrCat(source, " line ", line_number);
    if (fields.size() != 2) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": expected 'TOKEN ROLE' (two fields), got ",
                       fields.size(), " fields"));
    }
    if (absl::Status status = CheckToken(fields[0]); !status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": ", status.message()));
    }
    const std::optional<Role> role = ParseRole(fields[1]);
    if (!role.has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": the role must be reader or writer, got '",
                       Shown(fields[1]), "'"));
    }
    Entry entry{Sha256(fields[0]), *role};
    for (const Entry& other : entries) {
      if (other.digest == entry.digest) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": this token is listed twice"));
      }
    }
    entries.push_back(entry);
  }
  if (entries.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        source,
        ": no tokens (expected lines of 'TOKEN ROLE', ROLE reader or "
        "writer)"));
  }
  return std::unique_ptr<TokenAuthenticator>(
      new TokenAuthenticator(std::move(entries)));
}

absl::StatusOr<std::unique_ptr<TokenAuthenticator>>
TokenAuthenticator::FromFile(const std::string& path, absl::string_view flag) {
  BNMLP_ASSIGN_OR_RETURN(
      const std::string text,
      ReadFileContents(path, absl::StrCat("--", flag, ": ")));
  return FromText(text, absl::StrCat("--", flag, " ", path));
}

std::optional<Role> TokenAuthenticator::FindRole(const Digest& digest) const {
  std::optional<Role> found;
  for (const Entry& entry : entries_) {
    // CRYPTO_memcmp takes the same time whatever the bytes; no early exit.
    const bool match =
        CRYPTO_memcmp(entry.digest.data(), digest.data(), digest.size()) == 0;
    if (match) found = entry.role;
  }
  return found;
}

int TokenAuthenticator::Count(Role role) const {
  int count = 0;
  for (const Entry& entry : entries_) count += entry.role == role ? 1 : 0;
  return count;
}

absl::Status TokenAuthenticator::Admit(const grpc::ServerContextBase& context,
                                       absl::string_view method,
                                       std::string* caller) const {
  const auto& metadata = context.client_metadata();
  const auto header = metadata.find("authorization");
  std::optional<absl::string_view> authorization;
  if (header != metadata.end()) {
    authorization =
        absl::string_view(header->second.data(), header->second.size());
  }
  return Authorize(authorization, method, caller);
}

absl::Status TokenAuthenticator::Authorize(
    std::optional<absl::string_view> authorization, absl::string_view method,
    std::string* caller) const {
  if (!authorization.has_value()) {
    return absl::UnauthenticatedError(absl::StrCat(
        method,
        " needs a bearer token: this server wants the metadata "
        "'authorization: Bearer TOKEN' on every call but health and "
        "reflection"));
  }
  absl::string_view value = absl::StripAsciiWhitespace(*authorization);
  if (value.size() < kBearer.size() ||
      !absl::EqualsIgnoreCase(value.substr(0, kBearer.size()), kBearer)) {
    return absl::UnauthenticatedError(absl::StrCat(
        "the 'authorization' metadata must be 'Bearer TOKEN'; this one (",
        value.size(), " characters, not shown) does not start with 'Bearer '"));
  }
  const absl::string_view token =
      absl::StripLeadingAsciiWhitespace(value.substr(kBearer.size()));
  const std::optional<Role> role = FindRole(Sha256(token));
  const std::string fingerprint = TokenFingerprint(token);
  if (!role.has_value()) {
    *caller = absl::StrCat("unknown:", fingerprint);
    return absl::UnauthenticatedError(
        absl::StrCat("the bearer token (fingerprint ", fingerprint,
                     ") is not one this server accepts"));
  }
  *caller = absl::StrCat(RoleName(*role), ":", fingerprint);
  if (*role == Role::kReader && AccessOf(method) == RpcAccess::kWrite) {
    return absl::PermissionDeniedError(absl::StrCat(
        method,
        " changes the server's models or datasets and needs a writer "
        "token; this token (fingerprint ",
        fingerprint, ") has the reader role"));
  }
  return absl::OkStatus();
}

}  // namespace bnmlp
