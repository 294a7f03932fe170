// After the server runs out of file descriptors and they are released, it
// either accepts connections again or exits (code 3) so that its supervisor
// restarts it: never half-alive, answering health over old connections
// while refusing new ones (issue 11, finding 4; gRPC 1.51's listener does not
// recover from EMFILE on its own).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"
#include "gtest/gtest.h"
#include "tests/e2e/support/child_process.h"
#include "tests/e2e/support/server_process.h"

namespace bnmlp::testing {
namespace {

using ::testing::HasSubstr;

// True once `pid` has exited (a zombie, not yet reaped by its parent).
bool HasExited(pid_t pid) {
  std::ifstream stat(absl::StrCat("/proc/", pid, "/stat"));
  std::string text((std::istreambuf_iterator<char>(stat)),
                   std::istreambuf_iterator<char>());
  const size_t paren = text.rfind(')');
  return paren == std::string::npos ||
         (paren + 2 < text.size() && text[paren + 2] == 'Z');
}

// Health/Check over a connection of its own (not shared with any channel).
bool AnswersOverANewConnection(int port) {
  grpc::ChannelArguments arguments;
  arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto health = grpc::health::v1::Health::NewStub(
      grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port),
                                grpc::InsecureChannelCredentials(), arguments));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  return health->Check(&context, request, &response).ok();
}

// Opens `count` TCP connections to the port and keeps them until destroyed.
class IdleConnections {
 public:
  IdleConnections(int port, int count) {
    for (int i = 0; i < count; ++i) {
      const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (fd < 0) break;
      sockaddr_in address{};
      address.sin_family = AF_INET;
      address.sin_port = htons(static_cast<uint16_t>(port));
      address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (connect(fd, reinterpret_cast<const sockaddr*>(&address),
                  sizeof(address)) != 0) {
        close(fd);
        break;
      }
      fds_.push_back(fd);
    }
  }
  ~IdleConnections() {
    for (int fd : fds_) close(fd);
  }
  size_t size() const { return fds_.size(); }

 private:
  std::vector<int> fds_;
};

TEST(DescriptorExhaustionTest, TheServerAcceptsAgainOrExitsNeverHalfAlive) {
  absl::StatusOr<std::unique_ptr<ServerProcess>> server =
      ServerProcess::Start({"--listener_check_seconds=0.2"}, absl::Seconds(60),
                           {BNMLP_PRLIMIT, "--nofile=64:64"});
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = (*server)->port();
  // A server that has run a while, as in production: the watchdog has
  // probed a few times. (In the ASan+UBSan build this also matters: UBSan's
  // vptr check reads an object through a pipe when its type cache misses,
  // and without a descriptor to spare it reports valid objects as having
  // an "invalid vptr"; the probes fill that cache while descriptors last.)
  absl::SleepFor(absl::Seconds(1));
  {
    IdleConnections idle(port, 120);  // twice what the server may open
    ASSERT_EQ(idle.size(), 120u);
    absl::SleepFor(absl::Seconds(1));
  }
  // Released. Within 30 s: new connections answer, or the process is gone.
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  bool recovered = false;
  bool exited = false;
  while (absl::Now() < give_up) {
    if (HasExited((*server)->pid())) {
      exited = true;
      break;
    }
    if (AnswersOverANewConnection(port)) {
      recovered = true;
      break;
    }
    absl::SleepFor(absl::Milliseconds(200));
  }
  const std::string log = (*server)->Log();
  ASSERT_TRUE(recovered || exited)
      << "30 s after the descriptors were released the server neither "
         "accepts new connections nor has exited\n"
      << log;
  if (exited) {
    absl::StatusOr<int> wait_status = (*server)->Stop(SIGKILL);
    ASSERT_TRUE(wait_status.ok()) << wait_status.status();
    EXPECT_TRUE(WIFEXITED(*wait_status) && WEXITSTATUS(*wait_status) == 3)
        << DescribeWaitStatus(*wait_status) << "\n"
        << log;
    EXPECT_THAT(log, HasSubstr("ERROR event=listener_unreachable"));
    std::cout << "the server exited with code 3 after the listener died\n";
  } else {
    std::cout << "the listener accepted again\n";
  }
}

TEST(DescriptorExhaustionTest, AHealthyListenerIsLeftAlone) {
  absl::StatusOr<std::unique_ptr<ServerProcess>> server =
      ServerProcess::Start({"--listener_check_seconds=0.1"});
  ASSERT_TRUE(server.ok()) << server.status();
  absl::SleepFor(absl::Seconds(1));  // ten checks
  EXPECT_FALSE(HasExited((*server)->pid())) << (*server)->Log();
  EXPECT_TRUE(AnswersOverANewConnection((*server)->port()));
  EXPECT_THAT((*server)->Log(), ::testing::Not(HasSubstr("listener_")));
}

TEST(DescriptorExhaustionTest, TheSoftDescriptorLimitIsRaisedToTheHardOne) {
  absl::StatusOr<std::unique_ptr<ServerProcess>> server = ServerProcess::Start(
      {}, absl::Seconds(60), {BNMLP_PRLIMIT, "--nofile=100:300"});
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_THAT((*server)->Log(), HasSubstr(" max_open_files=300"));
}

}  // namespace
}  // namespace bnmlp::testing
