#include "server/active_calls.h"

#include "absl/time/clock.h"

namespace bnmlp {

bool ActiveCalls::WaitUntilIdle(absl::Time deadline) const {
  while (count() > 0) {
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return true;
}

}  // namespace bnmlp
