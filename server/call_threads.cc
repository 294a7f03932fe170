#include "server/call_threads.h"

#include <algorithm>
#include <utility>

namespace bnmlp {

CallThreads::CallThreads(int max_idle) : max_idle_(std::max(max_idle, 0)) {}

CallThreads::~CallThreads() {
  std::list<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    threads = std::move(threads_);
  }
  work_ready_.notify_all();
  for (std::thread& thread : threads) thread.join();
}

void CallThreads::Run(absl::AnyInvocable<void() &&> work) {
  std::vector<std::thread> exited;
  {
    std::lock_guard<std::mutex> lock(mu_);
    work_.push_back(std::move(work));
    // Each idle thread takes one piece of work; beyond them, a new thread.
    if (static_cast<int>(work_.size()) > idle_) {
      threads_.emplace_back([this] { Loop(); });
    } else {
      work_ready_.notify_one();
    }
    exited = TakeExited();
  }
  for (std::thread& thread : exited) thread.join();  // already returning
}

int CallThreads::threads() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(threads_.size() - exited_.size());
}

int CallThreads::idle_threads() const {
  std::lock_guard<std::mutex> lock(mu_);
  return idle_;
}

void CallThreads::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (!work_.empty()) {
      absl::AnyInvocable<void()&&> work = std::move(work_.front());
      work_.pop_front();
      lock.unlock();
      std::move(work)();
      work = nullptr;  // its captures go before the lock is retaken
      lock.lock();
      continue;
    }
    if (stopping_ || idle_ >= max_idle_) break;
    ++idle_;
    work_ready_.wait(lock, [this] { return !work_.empty() || stopping_; });
    --idle_;
  }
  if (!stopping_) exited_.push_back(std::this_thread::get_id());
}

std::vector<std::thread> CallThreads::TakeExited() {
  std::vector<std::thread> exited;
  for (const std::thread::id id : exited_) {
    const auto it =
        std::find_if(threads_.begin(), threads_.end(),
                     [id](const std::thread& t) { return t.get_id() == id; });
    exited.push_back(std::move(*it));
    threads_.erase(it);
  }
  exited_.clear();
  return exited;
}

}  // namespace bnmlp
