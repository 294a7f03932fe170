#include "bench/load/closed_loop.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <memory>
#include <mutex>

#include "absl/time/clock.h"

namespace bnmlp::bench {
namespace {

using Clock = std::chrono::steady_clock;

class Loop {
 public:
  Loop(int in_flight, const IssueCall& issue)
      : issue_(issue), slots_(static_cast<size_t>(in_flight)) {}

  void Start() {
    outstanding_ = static_cast<int>(slots_.size());
    for (size_t i = 0; i < slots_.size(); ++i) Issue(static_cast<int>(i));
  }
  void SetMeasuring(bool on) { measuring_ = on; }
  void Stop() { stopping_ = true; }

  // Waits for the last outstanding call, then merges the slots' figures.
  void Finish(LoadResult& result) {
    std::unique_lock<std::mutex> lock(mu_);
    all_done_.wait(lock, [this] { return outstanding_ == 0; });
    for (Slot& slot : slots_) {
      result.failed += slot.failed;
      if (result.first_error.empty()) result.first_error = slot.first_error;
      result.latencies_us.insert(result.latencies_us.end(),
                                 slot.latencies_us.begin(),
                                 slot.latencies_us.end());
    }
    result.completed = static_cast<int64_t>(result.latencies_us.size());
    std::sort(result.latencies_us.begin(), result.latencies_us.end());
  }

 private:
  // One chain of calls. Only the chain's own completions touch it, and each
  // completion happens after the previous one, so it needs no lock.
  struct Slot {
    std::unique_ptr<grpc::ClientContext> context;
    Clock::time_point started;
    std::vector<double> latencies_us;
    int64_t failed = 0;
    std::string first_error;
  };

  void Issue(int index) {
    Slot& slot = slots_[static_cast<size_t>(index)];
    // Replacing the context inside its own completion is safe: the call
    // keeps its own reference until the completion returns.
    slot.context = std::make_unique<grpc::ClientContext>();
    slot.context->set_deadline(std::chrono::system_clock::now() +
                               std::chrono::seconds(60));
    slot.started = Clock::now();
    issue_(index, slot.context.get(),
           [this, index](grpc::Status status) { Done(index, status); });
  }

  void Done(int index, const grpc::Status& status) {
    Slot& slot = slots_[static_cast<size_t>(index)];
    const double micros =
        std::chrono::duration<double, std::micro>(Clock::now() - slot.started)
            .count();
    if (measuring_ && !stopping_) {
      if (status.ok()) {
        slot.latencies_us.push_back(micros);
      } else {
        ++slot.failed;
        if (slot.first_error.empty()) slot.first_error = status.error_message();
      }
    }
    if (!stopping_) {
      Issue(index);
      return;
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (--outstanding_ == 0) all_done_.notify_all();
  }

  const IssueCall& issue_;
  std::vector<Slot> slots_;
  std::atomic<bool> measuring_{false};
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::condition_variable all_done_;
  int outstanding_ = 0;  // guarded by mu_ once calls run
};

}  // namespace

double LoadResult::Percentile(double p) const {
  if (latencies_us.empty()) return 0;
  const double rank = p / 100.0 * static_cast<double>(latencies_us.size() - 1);
  return latencies_us[static_cast<size_t>(std::lround(rank))];
}

LoadResult RunClosedLoop(int in_flight, absl::Duration warmup,
                         absl::Duration duration, const IssueCall& issue,
                         const std::function<void()>& on_window_start,
                         const std::function<void()>& on_window_end) {
  Loop loop(in_flight, issue);
  loop.Start();
  absl::SleepFor(warmup);
  on_window_start();
  const absl::Time start = absl::Now();
  loop.SetMeasuring(true);
  absl::SleepFor(duration);
  loop.Stop();
  LoadResult result;
  result.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  on_window_end();
  loop.Finish(result);
  return result;
}

}  // namespace bnmlp::bench
