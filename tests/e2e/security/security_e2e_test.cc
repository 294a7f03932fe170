// The real bnmlp-server with TLS, mutual TLS and bearer tokens, called by
// the real `bnmlp` CLI and by an independent Python grpcio client: both
// roles, no token, a wrong token, a reader that writes, a plaintext client
// against TLS, a client without a certificate against mTLS, a client that
// does not trust the server's CA, and the token a server generates when it
// listens beyond loopback. Tokens must never reach the server's log.
#include <sys/stat.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "tests/data/temp_files.h"
#include "tests/e2e/support/run_command.h"
#include "tests/e2e/support/server_process.h"
#include "tests/server/test_certificates.h"

namespace bnmlp {
namespace {

using ::bnmlp::data::test_files::TempDir;
using ::bnmlp::testing::BnmlpCliPath;
using ::bnmlp::testing::CommandResult;
using ::bnmlp::testing::MakeTestCertificates;
using ::bnmlp::testing::ReadTextFile;
using ::bnmlp::testing::RunCommand;
using ::bnmlp::testing::ServerProcess;
using ::bnmlp::testing::TestCertificates;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kWriterToken[] = "writer-0123456789abcdef0123456789";
constexpr char kReaderToken[] = "reader-0123456789abcdef0123456789";
constexpr char kWrongToken[] = "wrong--0123456789abcdef0123456789";

std::string Describe(const CommandResult& result) {
  return absl::StrCat("exit ", result.exit_code, "\n--- stdout:\n",
                      result.stdout_text, "--- stderr:\n", result.stderr_text);
}

class SecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<TestCertificates> made = MakeTestCertificates(dir_.path());
    ASSERT_TRUE(made.ok()) << made.status();
    certs_ = *made;
    tokens_file_ = dir_.Write(
        "tokens",
        absl::StrCat(kWriterToken, " writer\n", kReaderToken, " reader\n"));
    writer_token_file_ = dir_.Write("writer.token", kWriterToken);
  }

  std::shared_ptr<grpc::ChannelCredentials> TlsCredentials(bool client_cert) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ReadTextFile(certs_.ca_cert);
    if (client_cert) {
      ssl.pem_cert_chain = ReadTextFile(certs_.client_cert);
      ssl.pem_private_key = ReadTextFile(certs_.client_key);
    }
    return grpc::SslCredentials(ssl);
  }

  void StartServer(std::vector<std::string> flags,
                   std::shared_ptr<grpc::ChannelCredentials> health) {
    absl::StatusOr<std::unique_ptr<ServerProcess>> server =
        ServerProcess::Start(std::move(flags), absl::Seconds(60), {},
                             std::move(health));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  // The CLI with `args`, --server and `token` in BNMLP_TOKEN ("": unset).
  CommandResult Cli(std::vector<std::string> args,
                    const std::string& token = "") {
    std::vector<std::string> argv = {"env", "-u", "BNMLP_TOKEN"};
    if (!token.empty()) argv.push_back(absl::StrCat("BNMLP_TOKEN=", token));
    argv.push_back(BnmlpCliPath());
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("--server=" + server_->address());
    absl::StatusOr<CommandResult> result = RunCommand(argv);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : CommandResult{};
  }

  // The Python client's "CALL CODE" lines.
  std::vector<std::string> Python(std::vector<std::string> args) {
    std::vector<std::string> argv = {BNMLP_PYTHON, BNMLP_RAW_GRPC_CALL,
                                     "--address", server_->address()};
    argv.insert(argv.end(), args.begin(), args.end());
    absl::StatusOr<CommandResult> result = RunCommand(argv);
    EXPECT_TRUE(result.ok()) << result.status();
    if (!result.ok()) return {};
    EXPECT_EQ(result->exit_code, 0) << Describe(*result);
    return absl::StrSplit(result->stdout_text, '\n', absl::SkipEmpty());
  }

  void ExpectNoTokenInLog() {
    const std::string log = server_->Log();
    EXPECT_THAT(log, Not(HasSubstr(kWriterToken)));
    EXPECT_THAT(log, Not(HasSubstr(kReaderToken)));
    EXPECT_THAT(log, Not(HasSubstr(kWrongToken)));
  }

  TempDir dir_;
  TestCertificates certs_;
  std::string tokens_file_;
  std::string writer_token_file_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(SecurityTest, TlsWithTokensThroughTheCli) {
  StartServer({"--tls_cert_file=" + certs_.server_cert,
               "--tls_key_file=" + certs_.server_key,
               "--auth_tokens_file=" + tokens_file_},
              TlsCredentials(false));
  const std::string ca = "--tls_ca_file=" + certs_.ca_cert;

  // Health stays open.
  CommandResult result = Cli({"health", ca});
  EXPECT_EQ(result.exit_code, 0) << Describe(result);

  result = Cli({"list", ca});
  EXPECT_EQ(result.exit_code, 1) << Describe(result);
  EXPECT_THAT(result.stderr_text, HasSubstr("UNAUTHENTICATED"));
  EXPECT_THAT(result.stderr_text,
              HasSubstr("the server wants a token: pass --token_file or set "
                        "BNMLP_TOKEN"));

  result = Cli({"list", ca}, kWrongToken);
  EXPECT_EQ(result.exit_code, 1) << Describe(result);
  EXPECT_THAT(result.stderr_text, HasSubstr("UNAUTHENTICATED"));
  EXPECT_THAT(result.stderr_text, HasSubstr("does not accept this token"));

  result = Cli({"create", "--name=m", "--layers=4-3-2", ca,
                "--token_file=" + writer_token_file_});
  EXPECT_EQ(result.exit_code, 0) << Describe(result);

  result = Cli({"list", ca}, kReaderToken);
  EXPECT_EQ(result.exit_code, 0) << Describe(result);
  EXPECT_THAT(result.stdout_text, HasSubstr("m"));

  result = Cli({"delete", "--name=m", ca}, kReaderToken);
  EXPECT_EQ(result.exit_code, 1) << Describe(result);
  EXPECT_THAT(result.stderr_text, HasSubstr("PERMISSION_DENIED"));
  EXPECT_THAT(result.stderr_text, HasSubstr("needs a writer token"));

  // The server's tokens file works as a --token_file (its first token).
  result = Cli({"delete", "--name=m", ca, "--token_file=" + tokens_file_});
  EXPECT_EQ(result.exit_code, 0) << Describe(result);

  // Plaintext against TLS: unreachable, and the hint names --tls_ca_file.
  result = Cli({"list"}, kWriterToken);
  EXPECT_EQ(result.exit_code, 3) << Describe(result);
  EXPECT_THAT(result.stderr_text, HasSubstr("--tls_ca_file"));

  // A client that does not trust the server's CA.
  result = Cli({"list", "--tls_ca_file=" + certs_.other_ca_cert}, kWriterToken);
  EXPECT_EQ(result.exit_code, 3) << Describe(result);
  EXPECT_THAT(result.stderr_text, HasSubstr("TLS handshake failed"));

  const std::string log = server_->Log();
  EXPECT_THAT(log, HasSubstr("tls=on client_certs=off auth=tokens writers=1 "
                             "readers=1"));
  EXPECT_THAT(log, HasSubstr("caller=reader:"));
  EXPECT_THAT(log, HasSubstr("caller=writer:"));
  ExpectNoTokenInLog();
}

TEST_F(SecurityTest, TlsWithTokensThroughPythonGrpcio) {
  StartServer({"--tls_cert_file=" + certs_.server_cert,
               "--tls_key_file=" + certs_.server_key,
               "--auth_tokens_file=" + tokens_file_},
              TlsCredentials(false));
  const std::string ca = "--ca=" + certs_.ca_cert;
  EXPECT_THAT(Python({ca, "health", "list", "create:a"}),
              ElementsAre("health OK SERVING", "list UNAUTHENTICATED",
                          "create:a UNAUTHENTICATED"));
  EXPECT_THAT(Python({ca, absl::StrCat("--token=", kWrongToken), "list"}),
              ElementsAre("list UNAUTHENTICATED"));
  EXPECT_THAT(
      Python({ca, absl::StrCat("--token=", kReaderToken), "list", "create:a"}),
      ElementsAre("list OK", "create:a PERMISSION_DENIED"));
  EXPECT_THAT(
      Python({ca, absl::StrCat("--token=", kWriterToken), "create:a", "list"}),
      ElementsAre("create:a OK", "list OK"));
  // Plaintext never gets an answer from a TLS port.
  EXPECT_THAT(Python({absl::StrCat("--token=", kWriterToken), "list"}),
              ElementsAre("list UNAVAILABLE"));
  ExpectNoTokenInLog();
}

TEST_F(SecurityTest, MutualTlsRequiresAClientCertificate) {
  // The listener watchdog probes every 0.1 s: it must see this port accept
  // (and not shut the server down after 3 misses) without a certificate.
  StartServer(
      {"--tls_cert_file=" + certs_.server_cert,
       "--tls_key_file=" + certs_.server_key,
       "--tls_client_ca_file=" + certs_.ca_cert,
       "--auth_tokens_file=" + tokens_file_, "--listener_check_seconds=0.1"},
      TlsCredentials(true));
  const std::string ca = "--tls_ca_file=" + certs_.ca_cert;
  CommandResult result = Cli({"list", ca}, kWriterToken);
  EXPECT_EQ(result.exit_code, 3) << Describe(result);
  EXPECT_THAT(result.stderr_text, HasSubstr("--tls_cert_file"));
  result = Cli({"list", ca, "--tls_cert_file=" + certs_.client_cert,
                "--tls_key_file=" + certs_.client_key},
               kWriterToken);
  EXPECT_EQ(result.exit_code, 0) << Describe(result);
  // A certificate is not a token: the call still needs one.
  result = Cli({"list", ca, "--tls_cert_file=" + certs_.client_cert,
                "--tls_key_file=" + certs_.client_key});
  EXPECT_EQ(result.exit_code, 1) << Describe(result);

  const std::string pyca = "--ca=" + certs_.ca_cert;
  const std::string token = absl::StrCat("--token=", kReaderToken);
  EXPECT_THAT(Python({pyca, token, "list"}), ElementsAre("list UNAVAILABLE"));
  EXPECT_THAT(Python({pyca, token, "--cert=" + certs_.client_cert,
                      "--key=" + certs_.client_key, "list", "create:b"}),
              ElementsAre("list OK", "create:b PERMISSION_DENIED"));
  EXPECT_THAT(server_->Log(), HasSubstr("tls=on client_certs=required"));
  EXPECT_THAT(server_->Log(), Not(HasSubstr("listener_unreachable")));
  EXPECT_TRUE(server_->running());
  ExpectNoTokenInLog();
}

TEST_F(SecurityTest, BeyondLoopbackTheServerGeneratesAWriterToken) {
  const std::string token_file = dir_.PathOf("state/server_token");
  StartServer(
      {"--listen_address=0.0.0.0:0", "--generated_token_file=" + token_file},
      nullptr);
  struct stat info;
  ASSERT_EQ(stat(token_file.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  const std::string log = server_->Log();
  EXPECT_THAT(log, HasSubstr("event=auth_token_generated path=" + token_file));
  const std::string token_line = ReadTextFile(token_file);
  const std::string token =
      token_line.substr(token_line.rfind('\n', token_line.size() - 2) + 1, 64);
  EXPECT_THAT(log, Not(HasSubstr(token)));

  CommandResult result = Cli({"list"});
  EXPECT_EQ(result.exit_code, 1) << Describe(result);
  EXPECT_THAT(result.stderr_text, HasSubstr("--token_file"));
  result = Cli(
      {"create", "--name=m", "--layers=4-3-2", "--token_file=" + token_file});
  EXPECT_EQ(result.exit_code, 0) << Describe(result);
  EXPECT_THAT(Python({"--token=" + token, "list"}), ElementsAre("list OK"));
  EXPECT_THAT(server_->Log(), Not(HasSubstr(token)));
}

TEST_F(SecurityTest, AuthNoneRunsOpenBeyondLoopbackOnlyWhenAsked) {
  StartServer({"--listen_address=0.0.0.0:0", "--auth=none"}, nullptr);
  CommandResult result = Cli({"list"});
  EXPECT_EQ(result.exit_code, 0) << Describe(result);
  EXPECT_THAT(server_->Log(), HasSubstr("tls=off auth=none"));
}

TEST_F(SecurityTest, LoopbackStaysOpenByDefault) {
  StartServer({}, nullptr);
  EXPECT_THAT(Python({"list", "create:c"}),
              ElementsAre("list OK", "create:c OK"));
  EXPECT_THAT(server_->Log(), HasSubstr("auth=none(loopback)"));
}

}  // namespace
}  // namespace bnmlp
