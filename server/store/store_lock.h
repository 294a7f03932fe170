// The writer's lock on a model store directory: one server writes a store
// at a time; replicas read it without the lock.
//
// The lock is flock(LOCK_EX) on DIR/LOCK, which holds the holder's identity
// ("pid=123 host=box started=2026-...") so that a second writer's error
// names who is in the way. flock belongs to the open file, so the kernel
// drops it when the holder exits however it ends (a SIGKILL included), and
// a stale LOCK file never blocks a restart.
#ifndef BNMLP_SERVER_STORE_STORE_LOCK_H_
#define BNMLP_SERVER_STORE_STORE_LOCK_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace bnmlp {

// Holds the lock from Acquire until destroyed. Thread-compatible.
class StoreLock {
 public:
  // Takes the lock of `directory` (which must exist) without waiting.
  // FAILED_PRECONDITION naming the holder if another open file holds it
  // (another server, or another StoreLock in this process), or naming the
  // path and the reason if LOCK cannot be opened or written.
  static absl::StatusOr<std::unique_ptr<StoreLock>> Acquire(
      const std::string& directory);
  StoreLock(const StoreLock&) = delete;
  StoreLock& operator=(const StoreLock&) = delete;
  // Releases the lock (closing the file drops the flock).
  ~StoreLock();

 private:
  explicit StoreLock(int fd) : fd_(fd) {}
  const int fd_;
};

}  // namespace bnmlp

#endif  // BNMLP_SERVER_STORE_STORE_LOCK_H_
