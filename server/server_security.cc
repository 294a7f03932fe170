#include "server/server_security.h"

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/file_contents.h"
#include "common/status_macros.h"
#include "grpcpp/security/server_credentials.h"
#include "server/generated_token.h"
#include "server/token_auth.h"

namespace bnmlp {
namespace {

absl::StatusOr<std::string> ReadFlagFile(absl::string_view flag,
                                         const std::string& path) {
  return ReadFileContents(path, absl::StrCat("--", flag, ": "));
}

// Owns an OpenSSL object.
template <typename T, void (*Free)(T*)>
struct OpenSslDeleter {
  void operator()(T* object) const { Free(object); }
};
using X509Ptr = std::unique_ptr<X509, OpenSslDeleter<X509, X509_free>>;
using KeyPtr =
    std::unique_ptr<EVP_PKEY, OpenSslDeleter<EVP_PKEY, EVP_PKEY_free>>;
using BioPtr = std::unique_ptr<BIO, OpenSslDeleter<BIO, BIO_free_all>>;

BioPtr MemoryBio(const std::string& pem) {
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// gRPC reports a bad certificate or key only as a failed bind, so they are
// checked here, where the message can name the flag.
absl::Status CheckCertificateAndKey(const SecurityOptions& options,
                                    const std::string& certificate,
                                    const std::string& key) {
  BioPtr certificate_bio = MemoryBio(certificate);
  X509Ptr x509(
      PEM_read_bio_X509(certificate_bio.get(), nullptr, nullptr, nullptr));
  if (x509 == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--tls_cert_file: ", options.tls_cert_file,
        " holds no PEM certificate (-----BEGIN CERTIFICATE-----)"));
  }
  BioPtr key_bio = MemoryBio(key);
  KeyPtr private_key(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (private_key == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--tls_key_file: ", options.tls_key_file,
        " holds no unencrypted PEM private key (-----BEGIN PRIVATE KEY-----)"));
  }
  if (X509_check_private_key(x509.get(), private_key.get()) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("--tls_key_file: the key in ", options.tls_key_file,
                     " does not match the certificate in --tls_cert_file ",
                     options.tls_cert_file));
  }
  return absl::OkStatus();
}

absl::Status CheckClientCa(const SecurityOptions& options,
                           const std::string& pem) {
  BioPtr bio = MemoryBio(pem);
  X509Ptr x509(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (x509 == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--tls_client_ca_file: ", options.tls_client_ca_file,
        " holds no PEM certificate (-----BEGIN CERTIFICATE-----)"));
  }
  return absl::OkStatus();
}

absl::Status ConfigureTls(const SecurityOptions& options,
                          ServerSecurity& security) {
  const bool has_cert = !options.tls_cert_file.empty();
  const bool has_key = !options.tls_key_file.empty();
  if (has_cert != has_key) {
    return absl::InvalidArgumentError(
        has_cert ? "--tls_key_file: missing; --tls_cert_file needs the "
                   "certificate's private key"
                 : "--tls_cert_file: missing; --tls_key_file needs the "
                   "certificate it belongs to");
  }
  if (!has_cert) {
    if (!options.tls_client_ca_file.empty()) {
      return absl::InvalidArgumentError(
          "--tls_client_ca_file: client certificates need TLS; pass "
          "--tls_cert_file and --tls_key_file too");
    }
    security.credentials = grpc::InsecureServerCredentials();
    absl::StrAppend(&security.summary, "tls=off");
    return absl::OkStatus();
  }
  BNMLP_ASSIGN_OR_RETURN(const std::string certificate,
                         ReadFlagFile("tls_cert_file", options.tls_cert_file));
  BNMLP_ASSIGN_OR_RETURN(const std::string key,
                         ReadFlagFile("tls_key_file", options.tls_key_file));
  BNMLP_RETURN_IF_ERROR(CheckCertificateAndKey(options, certificate, key));
  grpc::SslServerCredentialsOptions ssl(
      GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  ssl.pem_key_cert_pairs.push_back({key, certificate});
  if (!options.tls_client_ca_file.empty()) {
    BNMLP_ASSIGN_OR_RETURN(
        ssl.pem_root_certs,
        ReadFlagFile("tls_client_ca_file", options.tls_client_ca_file));
    BNMLP_RETURN_IF_ERROR(CheckClientCa(options, ssl.pem_root_certs));
    ssl.client_certificate_request =
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  security.credentials = grpc::SslServerCredentials(ssl);
  security.tls = true;
  absl::StrAppend(&security.summary, "tls=on client_certs=",
                  options.tls_client_ca_file.empty() ? "off" : "required");
  return absl::OkStatus();
}

absl::Status UseTokensFile(const std::string& path, absl::string_view flag,
                           ServerSecurity& security) {
  BNMLP_ASSIGN_OR_RETURN(std::unique_ptr<TokenAuthenticator> tokens,
                         TokenAuthenticator::FromFile(path, flag));
  absl::StrAppend(&security.summary, " auth=tokens writers=", tokens->writers(),
                  " readers=", tokens->readers());
  security.admission = std::move(tokens);
  return absl::OkStatus();
}

absl::Status ConfigureAuth(const SecurityOptions& options,
                           absl::string_view listen_address,
                           absl::string_view model_dir,
                           ServerSecurity& security) {
  if (options.auth == "none") {
    if (!options.auth_tokens_file.empty()) {
      return absl::InvalidArgumentError(
          "--auth=none contradicts --auth_tokens_file: pass one of them");
    }
    absl::StrAppend(&security.summary, " auth=none");
    return absl::OkStatus();
  }
  if (options.auth != "auto") {
    return absl::InvalidArgumentError(absl::StrCat(
        "--auth: expected auto or none, got '", options.auth.substr(0, 32),
        options.auth.size() > 32 ? "...'" : "'"));
  }
  if (!options.auth_tokens_file.empty()) {
    return UseTokensFile(options.auth_tokens_file, "auth_tokens_file",
                         security);
  }
  if (IsLoopbackAddress(listen_address)) {
    absl::StrAppend(&security.summary, " auth=none(loopback)");
    return absl::OkStatus();
  }
  std::string path = options.generated_token_file;
  if (path.empty()) {
    BNMLP_ASSIGN_OR_RETURN(path, DefaultGeneratedTokenPath(model_dir));
  }
  BNMLP_ASSIGN_OR_RETURN(const GeneratedTokenFile file,
                         EnsureGeneratedTokenFile(path));
  security.generated_token_file = file.path;
  security.generated_token_created = file.created;
  return UseTokensFile(file.path, "generated_token_file", security);
}

// The host part of host:port, [v6]:port or a bare host.
absl::string_view HostOf(absl::string_view address) {
  if (absl::ConsumePrefix(&address, "[")) {
    return address.substr(0, address.find(']'));
  }
  const size_t colon = address.rfind(':');
  return colon == absl::string_view::npos ? address : address.substr(0, colon);
}

}  // namespace

bool IsLoopbackAddress(absl::string_view listen_address) {
  if (absl::StartsWith(listen_address, "unix:") ||
      absl::StartsWith(listen_address, "unix-abstract:")) {
    return true;
  }
  absl::ConsumePrefix(&listen_address, "ipv4:");
  absl::ConsumePrefix(&listen_address, "ipv6:");
  const std::string host = absl::AsciiStrToLower(HostOf(listen_address));
  if (host == "localhost" || host == "::1" || host == "ip6-localhost") {
    return true;
  }
  // 127.0.0.0/8, written as a dotted quad.
  const std::vector<absl::string_view> parts = absl::StrSplit(host, '.');
  int first = 0;
  if (parts.size() != 4 || !absl::SimpleAtoi(parts[0], &first) ||
      first != 127) {
    return false;
  }
  for (const absl::string_view part : parts) {
    int value = 0;
    if (!absl::SimpleAtoi(part, &value) || value < 0 || value > 255) {
      return false;
    }
  }
  return true;
}

absl::StatusOr<ServerSecurity> ConfigureSecurity(
    const SecurityOptions& options, absl::string_view listen_address,
    absl::string_view model_dir) {
  ServerSecurity security;
  BNMLP_RETURN_IF_ERROR(ConfigureTls(options, security));
  BNMLP_RETURN_IF_ERROR(
      ConfigureAuth(options, listen_address, model_dir, security));
  return security;
}

}  // namespace bnmlp
