// A throwaway PKI for TLS tests, made by the openssl command line (Debian's
// openssl package, from scripts/install-deps) in a temporary directory: a
// CA, a server certificate for 127.0.0.1 and localhost signed by it, a
// client certificate signed by it, and a second CA that signed neither.
#ifndef BNMLP_TESTS_SERVER_TEST_CERTIFICATES_H_
#define BNMLP_TESTS_SERVER_TEST_CERTIFICATES_H_

#include <string>

#include "absl/status/statusor.h"

namespace bnmlp::testing {

struct TestCertificates {
  std::string directory;
  // Paths of PEM files.
  std::string ca_cert;
  std::string server_cert;
  std::string server_key;
  std::string client_cert;
  std::string client_key;
  std::string other_ca_cert;  // trusts nothing above
};

// Makes the files under `directory` (which must exist). An error (with
// openssl's output) if openssl is missing or fails: tests then fail, loudly.
absl::StatusOr<TestCertificates> MakeTestCertificates(
    const std::string& directory);

// The contents of a file ("" if unreadable).
std::string ReadTextFile(const std::string& path);

}  // namespace bnmlp::testing

#endif  // BNMLP_TESTS_SERVER_TEST_CERTIFICATES_H_
