#include "server/listener_watchdog.h"

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/bnmlp_server.h"
#include "server/server_security.h"
#include "tests/data/temp_files.h"
#include "tests/server/test_certificates.h"

namespace bnmlp {
namespace {

using ::testing::HasSubstr;

TEST(SelfProbeTargetTest, WildcardAddressesBecomeLoopback) {
  EXPECT_EQ(*SelfProbeTarget("0.0.0.0:50051", 41000), "127.0.0.1:41000");
  EXPECT_EQ(*SelfProbeTarget("[::]:0", 41000), "[::1]:41000");
  EXPECT_EQ(*SelfProbeTarget("127.0.0.1:0", 41000), "127.0.0.1:41000");
  EXPECT_EQ(*SelfProbeTarget("10.1.2.3:50051", 50051), "10.1.2.3:50051");
  EXPECT_EQ(*SelfProbeTarget("localhost:50051", 50051), "localhost:50051");
}

TEST(SelfProbeTargetTest, AnAddressWithoutAPortIsInvalid) {
  EXPECT_EQ(SelfProbeTarget("localhost", 1).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SelfProbeTarget(":50051", 1).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Records the one on_unreachable call.
class Outcome {
 public:
  void Set(const absl::Status& status) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++calls_;
      last_ = status;
    }
    changed_.notify_all();
  }
  // The status passed, once called within `timeout`.
  std::optional<absl::Status> Wait(absl::Duration timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                      [this] { return calls_ > 0; });
    if (calls_ == 0) return std::nullopt;
    return last_;
  }
  int calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  int calls_ = 0;
  absl::Status last_;
};

TEST(ListenerWatchdogTest, ActsOnceAfterTheGivenMissesInARow) {
  std::atomic<int> probes{0};
  Outcome outcome;
  {
    ListenerWatchdog watchdog(
        [&probes] {
          ++probes;
          return absl::UnavailableError("connection refused");
        },
        absl::Milliseconds(1), 3,
        [&outcome](const absl::Status& status) { outcome.Set(status); });
    std::optional<absl::Status> last = outcome.Wait(absl::Seconds(30));
    ASSERT_TRUE(last.has_value());
    EXPECT_THAT(last->message(), HasSubstr("connection refused"));
    absl::SleepFor(absl::Milliseconds(20));  // it must not probe on
  }
  EXPECT_EQ(probes.load(), 3);
  EXPECT_EQ(outcome.calls(), 1);
}

TEST(ListenerWatchdogTest, ASuccessResetsTheCount) {
  // Fail, fail, succeed, repeatedly: never three misses in a row.
  std::atomic<int> probes{0};
  Outcome outcome;
  {
    ListenerWatchdog watchdog(
        [&probes] {
          return ++probes % 3 == 0 ? absl::OkStatus()
                                   : absl::UnavailableError("refused");
        },
        absl::Milliseconds(1), 3,
        [&outcome](const absl::Status& status) { outcome.Set(status); });
    while (probes.load() < 30) absl::SleepFor(absl::Milliseconds(1));
  }
  EXPECT_EQ(outcome.calls(), 0);
}

TEST(ListenerWatchdogTest, DestroyingItStopsAWaitingThreadAtOnce) {
  // An hour's interval: the destructor must not wait for it.
  Outcome outcome;
  const absl::Time start = absl::Now();
  {
    ListenerWatchdog watchdog(
        [] { return absl::OkStatus(); }, absl::Hours(1), 1,
        [&outcome](const absl::Status& status) { outcome.Set(status); });
  }
  EXPECT_LT(absl::Now() - start, absl::Seconds(30));
  EXPECT_EQ(outcome.calls(), 0);
}

TEST(ProbeHealthOverNewConnectionTest, ARunningServerAnswers) {
  ServerOptions options;
  options.listen_address = "127.0.0.1:0";
  absl::StatusOr<std::unique_ptr<BnmlpServer>> server =
      BnmlpServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string target =
      *SelfProbeTarget(options.listen_address, (*server)->port());
  EXPECT_TRUE(ProbeHealthOverNewConnection(target, absl::Seconds(30)).ok());
}

TEST(ProbeHealthOverNewConnectionTest, NobodyListeningIsAnError) {
  // Bind a port, then free it: nothing listens there.
  ServerOptions options;
  options.listen_address = "127.0.0.1:0";
  int port = 0;
  {
    absl::StatusOr<std::unique_ptr<BnmlpServer>> server =
        BnmlpServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    port = (*server)->port();
  }
  const absl::Status status = ProbeHealthOverNewConnection(
      absl::StrCat("127.0.0.1:", port), absl::Milliseconds(300));
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(status.message(), HasSubstr("over a new connection"));
}

}  // namespace
}  // namespace bnmlp

namespace bnmlp {
namespace {

// A TLS listener answers a plaintext probe by closing the connection: that
// is an accepted connection, with or without required client certificates.
TEST(ProbeHealthOverNewConnectionTest, ATlsListenerThatAcceptsPasses) {
  data::test_files::TempDir dir;
  absl::StatusOr<testing::TestCertificates> certs =
      testing::MakeTestCertificates(dir.path());
  ASSERT_TRUE(certs.ok()) << certs.status();
  for (const bool client_certs : {false, true}) {
    SecurityOptions security_options;
    security_options.tls_cert_file = certs->server_cert;
    security_options.tls_key_file = certs->server_key;
    if (client_certs) security_options.tls_client_ca_file = certs->ca_cert;
    absl::StatusOr<ServerSecurity> security =
        ConfigureSecurity(security_options, "127.0.0.1:0", "");
    ASSERT_TRUE(security.ok()) << security.status();
    ServerOptions options;
    options.listen_address = "127.0.0.1:0";
    options.credentials = security->credentials;
    absl::StatusOr<std::unique_ptr<BnmlpServer>> server =
        BnmlpServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    const std::string target =
        *SelfProbeTarget(options.listen_address, (*server)->port());
    const absl::Status probe = ProbeHealthOverNewConnection(
        target, absl::Seconds(30), /*tls_listener=*/true);
    EXPECT_TRUE(probe.ok()) << probe;
    // Without knowing the port is TLS, the probe would call it a miss.
    EXPECT_FALSE(
        ProbeHealthOverNewConnection(target, absl::Milliseconds(500)).ok());
  }
}

TEST(ProbeHealthOverNewConnectionTest, NobodyListeningFailsForTlsToo) {
  ServerOptions options;
  options.listen_address = "127.0.0.1:0";
  int port = 0;
  {
    absl::StatusOr<std::unique_ptr<BnmlpServer>> server =
        BnmlpServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    port = (*server)->port();
  }
  EXPECT_FALSE(ProbeHealthOverNewConnection(absl::StrCat("127.0.0.1:", port),
                                            absl::Milliseconds(300),
                                            /*tls_listener=*/true)
                   .ok());
}

}  // namespace
}  // namespace bnmlp
