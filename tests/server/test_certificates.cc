#include "tests/server/test_certificates.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace bnmlp::testing {
namespace {

absl::Status WriteFile(const std::string& path, const std::string& text) {
  std::ofstream file(path, std::ios::trunc);
  file << text;
  return file.flush()
             ? absl::OkStatus()
             : absl::InternalError(absl::StrCat("cannot write ", path));
}

// Runs openssl with `args` (quoted with single quotes; none contains one).
absl::Status OpenSsl(const std::string& directory,
                     const std::vector<std::string>& args) {
  const std::string log = directory + "/openssl.log";
  std::string command = "cd '" + directory + "' && openssl";
  for (const std::string& arg : args) absl::StrAppend(&command, " '", arg, "'");
  absl::StrAppend(&command, " >'", log, "' 2>&1");
  if (std::system(command.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("openssl ",
                                            absl::StrJoin(args, " "),
                                            " failed (is the openssl package "
                                            "installed? scripts/install-deps "
                                            "installs it):\n",
                                            ReadTextFile(log)));
  }
  return absl::OkStatus();
}

absl::Status SelfSignedCa(const std::string& directory,
                          const std::string& name) {
  return OpenSsl(directory, {"req", "-x509", "-newkey", "ec", "-pkeyopt",
                             "ec_paramgen_curve:prime256v1", "-nodes",
                             "-keyout", name + ".key", "-out", name + ".pem",
                             "-days", "2", "-subj", "/CN=" + name});
}

absl::Status SignedLeaf(const std::string& directory, const std::string& name,
                        const std::string& extensions) {
  if (absl::Status s = WriteFile(directory + "/" + name + ".ext", extensions);
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          OpenSsl(directory, {"req", "-newkey", "ec", "-pkeyopt",
                              "ec_paramgen_curve:prime256v1", "-nodes",
                              "-keyout", name + ".key", "-out", name + ".csr",
                              "-subj", "/CN=" + name});
      !s.ok()) {
    return s;
  }
  return OpenSsl(directory,
                 {"x509", "-req", "-in", name + ".csr", "-CA", "ca.pem",
                  "-CAkey", "ca.key", "-CAcreateserial", "-out", name + ".pem",
                  "-days", "2", "-extfile", name + ".ext"});
}

}  // namespace

std::string ReadTextFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

absl::StatusOr<TestCertificates> MakeTestCertificates(
    const std::string& directory) {
  for (absl::Status status : {
           SelfSignedCa(directory, "ca"),
           SelfSignedCa(directory, "other_ca"),
           SignedLeaf(directory, "server",
                      "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                      "extendedKeyUsage=serverAuth\n"),
           SignedLeaf(directory, "client", "extendedKeyUsage=clientAuth\n"),
       }) {
    if (!status.ok()) return status;
  }
  const auto path = [&](const std::string& name) {
    return directory + "/" + name;
  };
  return TestCertificates{directory,           path("ca.pem"),
                          path("server.pem"),  path("server.key"),
                          path("client.pem"),  path("client.key"),
                          path("other_ca.pem")};
}

}  // namespace bnmlp::testing
