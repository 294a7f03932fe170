#include "server/store/store_lock.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/data/temp_files.h"

namespace bnmlp {
namespace {

using ::bnmlp::data::test_files::ReadRawFile;
using ::bnmlp::data::test_files::TempDir;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string PidField(pid_t pid) { return absl::StrCat("pid=", pid, " host="); }

TEST(StoreLockTest, TheHolderWritesItsIdentity) {
  TempDir dir;
  absl::StatusOr<std::unique_ptr<StoreLock>> lock =
      StoreLock::Acquire(dir.path());
  ASSERT_TRUE(lock.ok()) << lock.status();
  EXPECT_THAT(ReadRawFile(dir.path() + "/LOCK"),
              AllOf(StartsWith(PidField(getpid())), HasSubstr(" started=")));
}

TEST(StoreLockTest, ASecondHolderIsRefusedUntilTheFirstIsDestroyed) {
  TempDir dir;
  absl::StatusOr<std::unique_ptr<StoreLock>> first =
      StoreLock::Acquire(dir.path());
  ASSERT_TRUE(first.ok()) << first.status();

  absl::StatusOr<std::unique_ptr<StoreLock>> second =
      StoreLock::Acquire(dir.path());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(second.status().message(),
              AllOf(HasSubstr(dir.path()),
                    HasSubstr(absl::StrCat("in use by another bnmlp-server (",
                                           PidField(getpid()))),
                    HasSubstr("--read_only")));

  first->reset();
  EXPECT_TRUE(StoreLock::Acquire(dir.path()).ok());
}

TEST(StoreLockTest, AStaleLockFileDoesNotBlockAndIsRewritten) {
  TempDir dir;
  dir.Write("LOCK",
            "pid=999999999 host=gone started=2020-01-01T00:00:00Z "
            "and a much longer tail than the new identity has\n");
  absl::StatusOr<std::unique_ptr<StoreLock>> lock =
      StoreLock::Acquire(dir.path());
  ASSERT_TRUE(lock.ok()) << lock.status();
  const std::string identity = ReadRawFile(dir.path() + "/LOCK");
  EXPECT_THAT(identity, StartsWith(PidField(getpid())));
  EXPECT_THAT(identity, ::testing::Not(HasSubstr("tail")));
}

// Kills and reaps a child process when it goes out of scope, so that a
// failed assertion never leaves it running (holding the test's output open
// for ctest, which would wait for it).
class KilledAtScopeExit {
 public:
  explicit KilledAtScopeExit(pid_t pid) : pid_(pid) {}
  ~KilledAtScopeExit() { Kill(); }
  KilledAtScopeExit(const KilledAtScopeExit&) = delete;
  KilledAtScopeExit& operator=(const KilledAtScopeExit&) = delete;
  // True once the child was killed and reaped.
  bool Kill() {
    if (pid_ <= 0) return true;
    const bool killed = kill(pid_, SIGKILL) == 0;
    int status = 0;
    const bool reaped = waitpid(pid_, &status, 0) == pid_;
    pid_ = -1;
    return killed && reaped;
  }

 private:
  pid_t pid_;
};

// The lock another process holds is refused naming that process, and the
// kernel drops it when that process is killed: no cleanup is needed after
// a crash.
TEST(StoreLockTest, AnotherProcessesLockIsRefusedAndDroppedWhenItIsKilled) {
  TempDir dir;
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    absl::StatusOr<std::unique_ptr<StoreLock>> lock =
        StoreLock::Acquire(dir.path());
    const char byte = lock.ok() ? '1' : '0';
    if (write(ready[1], &byte, 1) != 1) _exit(1);
    while (true) pause();  // until killed
  }
  KilledAtScopeExit holder(child);
  close(ready[1]);
  char byte = 0;
  ASSERT_EQ(read(ready[0], &byte, 1), 1);
  close(ready[0]);
  ASSERT_EQ(byte, '1') << "the child could not take the lock";

  absl::StatusOr<std::unique_ptr<StoreLock>> refused =
      StoreLock::Acquire(dir.path());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(), HasSubstr(PidField(child)));

  ASSERT_TRUE(holder.Kill());
  EXPECT_TRUE(StoreLock::Acquire(dir.path()).ok());
}

TEST(StoreLockTest, AMissingDirectoryNamesTheLockFile) {
  TempDir dir;
  const std::string missing = dir.path() + "/absent";
  absl::StatusOr<std::unique_ptr<StoreLock>> lock = StoreLock::Acquire(missing);
  EXPECT_EQ(lock.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(lock.status().message(),
              AllOf(HasSubstr("cannot open the lock file " + missing + "/LOCK"),
                    HasSubstr("No such file or directory")));
}

}  // namespace
}  // namespace bnmlp
