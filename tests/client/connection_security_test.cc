#include "client/cli/connection_security.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/client/test_files.h"

namespace bnmlp::cli {
namespace {

using ::bnmlp::client_testing::TempDir;
using ::testing::HasSubstr;

TEST(TokenFromFileTextTest, TheTokenAloneOrATokensFile) {
  EXPECT_EQ(*TokenFromFileText("abc123\n", "f"), "abc123");
  EXPECT_EQ(*TokenFromFileText("# made by bnmlp-server\n\n  tok writer\n"
                               "other reader\n",
                               "f"),
            "tok");
  absl::StatusOr<std::string> none = TokenFromFileText("# only\n\n", "--x f");
  EXPECT_EQ(none.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(none.status().message(), HasSubstr("--x f holds no token"));
}

TEST(ChannelSecurityFromFlagsTest, TokenFileWinsOverTheEnvironment) {
  TempDir dir;
  ConnectionFlags flags;
  flags.token_environment = " from-env \n";
  absl::StatusOr<client::ChannelSecurity> security =
      ChannelSecurityFromFlags(flags);
  ASSERT_TRUE(security.ok()) << security.status();
  EXPECT_EQ(security->bearer_token, "from-env");
  EXPECT_FALSE(security->use_tls);
  flags.token_file = dir.Write("token", "from-file\n");
  security = ChannelSecurityFromFlags(flags);
  ASSERT_TRUE(security.ok()) << security.status();
  EXPECT_EQ(security->bearer_token, "from-file");
  flags.token_file = "";
  flags.token_environment = "";
  EXPECT_THAT(ChannelSecurityFromFlags(flags).status().message(),
              HasSubstr("BNMLP_TOKEN is set but empty"));
}

TEST(ChannelSecurityFromFlagsTest, TlsFilesTurnTlsOnAndNameTheirFlag) {
  TempDir dir;
  ConnectionFlags flags;
  flags.tls_ca_file = dir.Write("ca.pem", "CA");
  absl::StatusOr<client::ChannelSecurity> security =
      ChannelSecurityFromFlags(flags);
  ASSERT_TRUE(security.ok()) << security.status();
  EXPECT_TRUE(security->use_tls);
  EXPECT_EQ(security->tls_root_certs, "CA");
  flags.tls_cert_file = dir.Write("client.pem", "CERT");
  EXPECT_THAT(ChannelSecurityFromFlags(flags).status().message(),
              HasSubstr("--tls_key_file: missing"));
  flags.tls_key_file = dir.PathOf("absent.key");
  EXPECT_THAT(ChannelSecurityFromFlags(flags).status().message(),
              HasSubstr("--tls_key_file: cannot read"));
  flags.tls_key_file = dir.Write("client.key", "KEY");
  security = ChannelSecurityFromFlags(flags);
  ASSERT_TRUE(security.ok()) << security.status();
  EXPECT_EQ(security->tls_cert_chain, "CERT");
  EXPECT_EQ(security->tls_private_key, "KEY");
  ConnectionFlags only_tls;
  only_tls.tls = true;
  EXPECT_TRUE(ChannelSecurityFromFlags(only_tls)->use_tls);
  ConnectionFlags missing_token;
  missing_token.token_file = dir.PathOf("nope");
  EXPECT_THAT(ChannelSecurityFromFlags(missing_token).status().message(),
              HasSubstr("--token_file: cannot read"));
}

TEST(ConnectionHintTest, NamesTheMissingFlag) {
  client::ChannelSecurity plain;
  client::ChannelSecurity with_token;
  with_token.bearer_token = "t";
  client::ChannelSecurity tls;
  tls.use_tls = true;
  EXPECT_THAT(ConnectionHint(absl::UnauthenticatedError("x"), plain),
              HasSubstr("pass --token_file or set BNMLP_TOKEN"));
  EXPECT_THAT(ConnectionHint(absl::UnauthenticatedError("x"), with_token),
              HasSubstr("does not accept this token"));
  EXPECT_THAT(ConnectionHint(absl::PermissionDeniedError("x"), with_token),
              HasSubstr("writer token"));
  const absl::Status closed = absl::UnavailableError(
      "failed to connect to all addresses; last error: UNAVAILABLE: "
      "ipv4:127.0.0.1:1: Socket closed");
  EXPECT_THAT(ConnectionHint(closed, plain), HasSubstr("--tls_ca_file"));
  EXPECT_THAT(ConnectionHint(closed, tls), HasSubstr("--tls_cert_file"));
  EXPECT_THAT(
      ConnectionHint(
          absl::UnavailableError("Ssl handshake failed: SSL_ERROR_SSL"), tls),
      HasSubstr("TLS handshake failed"));
  EXPECT_EQ(ConnectionHint(absl::NotFoundError("model"), plain), "");
  EXPECT_EQ(ConnectionHint(absl::UnavailableError("shutting down"), plain), "");
}

}  // namespace
}  // namespace bnmlp::cli
