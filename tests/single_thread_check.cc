// Linked into every test binary declared SINGLE_THREADED
// (tests/CMakeLists.txt), which the ThreadSanitizer build leaves out: TSan
// finds races between threads, and these binaries start none. This keeps
// the claim true: when the tests have run, the process must have no more
// threads than before the first test (libraries such as OpenBLAS start
// theirs as they load), else the binary fails and says what to change.
// Pools (ours, OpenBLAS's, gRPC's) outlive the test that started them and
// are caught; a thread a test starts and joins itself is not, but such a
// test is a concurrency test and belongs in a binary TSan builds.
#include <filesystem>
#include <iterator>

#include "gtest/gtest.h"

namespace bnmlp::testing {
namespace {

int ThreadsOfThisProcess() {
  const std::filesystem::directory_iterator tasks("/proc/self/task");
  return static_cast<int>(std::distance(begin(tasks), end(tasks)));
}

class SingleThreadCheck : public ::testing::Environment {
 public:
  void SetUp() override { threads_before_tests_ = ThreadsOfThisProcess(); }
  void TearDown() override {
    EXPECT_EQ(ThreadsOfThisProcess(), threads_before_tests_)
        << "this test binary is declared SINGLE_THREADED, so the TSan build "
           "leaves it out, but its tests started threads: drop "
           "SINGLE_THREADED from its bnmlp_add_test in tests/";
  }

 private:
  int threads_before_tests_ = 0;
};

// GoogleTest owns the environment (its API takes a raw pointer).
[[maybe_unused]] ::testing::Environment* const kCheck =
    ::testing::AddGlobalTestEnvironment(new SingleThreadCheck);

}  // namespace
}  // namespace bnmlp::testing
