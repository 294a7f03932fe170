#include "server/server_security.h"

#include <sys/stat.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/token_auth.h"
#include "tests/data/temp_files.h"
#include "tests/server/test_certificates.h"

namespace bnmlp {
namespace {

using ::bnmlp::data::test_files::TempDir;
using ::bnmlp::testing::MakeTestCertificates;
using ::bnmlp::testing::TestCertificates;
using ::testing::HasSubstr;

TEST(IsLoopbackAddressTest, LoopbackAndNot) {
  for (const char* address :
       {"127.0.0.1:50051", "127.0.0.1:0", "127.1.2.3:1", "localhost:50051",
        "LOCALHOST:1", "[::1]:50051", "ipv4:127.0.0.1:5", "unix:/tmp/sock"}) {
    EXPECT_TRUE(IsLoopbackAddress(address)) << address;
  }
  for (const char* address :
       {"0.0.0.0:50051", "[::]:50051", "10.0.0.1:50051", "example.com:443",
        "128.0.0.1:1", "127.0.0.1.example.com:1", "127.0.0.256:1", ":50051",
        "[::ffff:127.0.0.1]:1"}) {
    EXPECT_FALSE(IsLoopbackAddress(address)) << address;
  }
}

TEST(ConfigureSecurityTest, LoopbackWithoutTokensIsOpenPlaintext) {
  absl::StatusOr<ServerSecurity> security =
      ConfigureSecurity({}, "127.0.0.1:0", "");
  ASSERT_TRUE(security.ok()) << security.status();
  EXPECT_NE(security->credentials, nullptr);
  EXPECT_EQ(security->admission, nullptr);
  EXPECT_EQ(security->summary, "tls=off auth=none(loopback)");
  EXPECT_FALSE(security->tls);
}

TEST(ConfigureSecurityTest, BeyondLoopbackWithoutTokensGeneratesOne) {
  TempDir dir;
  absl::StatusOr<ServerSecurity> security =
      ConfigureSecurity({}, "0.0.0.0:50051", dir.path());
  ASSERT_TRUE(security.ok()) << security.status();
  EXPECT_NE(security->admission, nullptr);
  EXPECT_EQ(security->generated_token_file, dir.PathOf("server_token"));
  EXPECT_TRUE(security->generated_token_created);
  EXPECT_EQ(security->summary, "tls=off auth=tokens writers=1 readers=0");
}

TEST(ConfigureSecurityTest, AuthNoneIsOpenAnywhereButNotWithTokens) {
  SecurityOptions options;
  options.auth = "none";
  absl::StatusOr<ServerSecurity> security =
      ConfigureSecurity(options, "0.0.0.0:50051", "");
  ASSERT_TRUE(security.ok()) << security.status();
  EXPECT_EQ(security->admission, nullptr);
  EXPECT_EQ(security->summary, "tls=off auth=none");

  options.auth_tokens_file = "/some/file";
  EXPECT_THAT(ConfigureSecurity(options, "0.0.0.0:1", "").status().message(),
              HasSubstr("--auth=none contradicts --auth_tokens_file"));
  options = {};
  options.auth = "open";
  EXPECT_THAT(ConfigureSecurity(options, "0.0.0.0:1", "").status().message(),
              HasSubstr("--auth: expected auto or none, got 'open'"));
}

TEST(ConfigureSecurityTest, ATokensFileAppliesOnLoopbackToo) {
  TempDir dir;
  SecurityOptions options;
  options.auth_tokens_file =
      dir.Write("tokens",
                "reader-token-0123456789 reader\nwriter-token-0123456789 "
                "writer\nother-reader-0123456789 reader\n");
  absl::StatusOr<ServerSecurity> security =
      ConfigureSecurity(options, "127.0.0.1:0", "");
  ASSERT_TRUE(security.ok()) << security.status();
  EXPECT_NE(security->admission, nullptr);
  EXPECT_EQ(security->summary, "tls=off auth=tokens writers=1 readers=2");
  options.auth_tokens_file = dir.PathOf("missing");
  EXPECT_EQ(ConfigureSecurity(options, "127.0.0.1:0", "").status().code(),
            absl::StatusCode::kNotFound);
}

class TlsSecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<TestCertificates> made = MakeTestCertificates(dir_.path());
    ASSERT_TRUE(made.ok()) << made.status();
    certs_ = *made;
  }
  TempDir dir_;
  TestCertificates certs_;
};

TEST_F(TlsSecurityTest, CertificateKeyAndClientCa) {
  SecurityOptions options;
  options.tls_cert_file = certs_.server_cert;
  options.tls_key_file = certs_.server_key;
  absl::StatusOr<ServerSecurity> security =
      ConfigureSecurity(options, "127.0.0.1:0", "");
  ASSERT_TRUE(security.ok()) << security.status();
  EXPECT_EQ(security->summary, "tls=on client_certs=off auth=none(loopback)");
  EXPECT_TRUE(security->tls);
  options.tls_client_ca_file = certs_.ca_cert;
  security = ConfigureSecurity(options, "127.0.0.1:0", "");
  ASSERT_TRUE(security.ok()) << security.status();
  EXPECT_EQ(security->summary,
            "tls=on client_certs=required auth=none(loopback)");
}

TEST_F(TlsSecurityTest, EveryMistakeNamesItsFlag) {
  struct Case {
    SecurityOptions options;
    std::string expected;
  };
  const std::string cert = certs_.server_cert;
  const std::string key = certs_.server_key;
  const std::vector<Case> cases = {
      {{"auto", "", "", cert, "", ""}, "--tls_key_file: missing"},
      {{"auto", "", "", "", key, ""}, "--tls_cert_file: missing"},
      {{"auto", "", "", "", "", certs_.ca_cert},
       "--tls_client_ca_file: client certificates need TLS"},
      {{"auto", "", "", cert, certs_.client_key, ""},
       "--tls_key_file: the key in " + certs_.client_key +
           " does not match the certificate"},
      {{"auto", "", "", key, key, ""},
       "--tls_cert_file: " + key + " holds no PEM certificate"},
      {{"auto", "", "", cert, cert, ""},
       "--tls_key_file: " + cert + " holds no unencrypted PEM"},
      {{"auto", "", "", cert, key, key}, "--tls_client_ca_file: " + key},
      {{"auto", "", "", cert, dir_.PathOf("nope"), ""},
       "--tls_key_file: cannot read " + dir_.PathOf("nope")},
  };
  for (const Case& c : cases) {
    absl::StatusOr<ServerSecurity> security =
        ConfigureSecurity(c.options, "127.0.0.1:0", "");
    ASSERT_FALSE(security.ok()) << c.expected;
    EXPECT_THAT(security.status().message(), HasSubstr(c.expected));
  }
}

}  // namespace
}  // namespace bnmlp
