// AnnotatedMutex: an absl::Mutex that ThreadSanitizer can see.
//
// Why not absl::Mutex directly: Debian's libabsl is not built with TSan, so
// TSan does not see the happens-before edges of absl::Mutex::Lock/Unlock and
// reports every field guarded by one as a data race (false positives, seen
// on this project's build machine). This wrapper keeps the real absl::Mutex
// and tells TSan about each acquire and release through Abseil's dynamic
// annotations, which compile to nothing outside TSan builds.
//
// For the same reason our code must not wait with absl::CondVar,
// Mutex::Await or absl::Notification (their waits happen inside
// uninstrumented code): use std::atomic or std::condition_variable instead.
//
// The class keeps clang's -Wthread-safety analysis: fields are declared
// ABSL_GUARDED_BY(an AnnotatedMutex) and locked with the RAII classes below.
#ifndef BNMLP_COMMON_ANNOTATED_MUTEX_H_
#define BNMLP_COMMON_ANNOTATED_MUTEX_H_

#include "absl/base/dynamic_annotations.h"
#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace bnmlp {

class ABSL_LOCKABLE AnnotatedMutex {
 public:
  AnnotatedMutex() { ABSL_ANNOTATE_RWLOCK_CREATE(this); }
  ~AnnotatedMutex() { ABSL_ANNOTATE_RWLOCK_DESTROY(this); }
  AnnotatedMutex(const AnnotatedMutex&) = delete;
  AnnotatedMutex& operator=(const AnnotatedMutex&) = delete;

  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() {
    mu_.Lock();
    ABSL_ANNOTATE_RWLOCK_ACQUIRED(this, 1);
  }
  void Unlock() ABSL_UNLOCK_FUNCTION() {
    ABSL_ANNOTATE_RWLOCK_RELEASED(this, 1);
    mu_.Unlock();
  }
  void ReaderLock() ABSL_SHARED_LOCK_FUNCTION() {
    mu_.ReaderLock();
    ABSL_ANNOTATE_RWLOCK_ACQUIRED(this, 0);
  }
  void ReaderUnlock() ABSL_UNLOCK_FUNCTION() {
    ABSL_ANNOTATE_RWLOCK_RELEASED(this, 0);
    mu_.ReaderUnlock();
  }
  void AssertHeld() const ABSL_ASSERT_EXCLUSIVE_LOCK() { mu_.AssertHeld(); }

 private:
  absl::Mutex mu_;
};

// Holds `mu` exclusively for the scope.
class ABSL_SCOPED_LOCKABLE WriterLock {
 public:
  explicit WriterLock(AnnotatedMutex* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu)
      : mu_(mu) {
    mu_->Lock();
  }
  ~WriterLock() ABSL_UNLOCK_FUNCTION() { mu_->Unlock(); }
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;

 private:
  AnnotatedMutex* const mu_;
};

// Holds `mu` shared (with other readers) for the scope.
class ABSL_SCOPED_LOCKABLE ReaderLock {
 public:
  explicit ReaderLock(AnnotatedMutex* mu) ABSL_SHARED_LOCK_FUNCTION(mu)
      : mu_(mu) {
    mu_->ReaderLock();
  }
  ~ReaderLock() ABSL_UNLOCK_FUNCTION() { mu_->ReaderUnlock(); }
  ReaderLock(const ReaderLock&) = delete;
  ReaderLock& operator=(const ReaderLock&) = delete;

 private:
  AnnotatedMutex* const mu_;
};

}  // namespace bnmlp

#endif  // BNMLP_COMMON_ANNOTATED_MUTEX_H_
