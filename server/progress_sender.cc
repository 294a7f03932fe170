#include "server/progress_sender.h"

#include <utility>

namespace bnmlp {

ProgressSender::ProgressSender(WriteFn write)
    : write_(std::move(write)), thread_([this] { Run(); }) {}

ProgressSender::~ProgressSender() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

bool ProgressSender::Offer(v1::TrainResponse event) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (broken_) return false;
    if (event.has_progress() && !queue_.empty() &&
        queue_.back().has_progress()) {
      queue_.back() = std::move(event);
    } else {
      queue_.push_back(std::move(event));
    }
  }
  changed_.notify_all();
  return true;
}

bool ProgressSender::Flush(absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  const bool done = changed_.wait_for(
      lock, absl::ToChronoNanoseconds(timeout),
      [this] { return broken_ || (queue_.empty() && !writing_); });
  return done && !broken_;
}

bool ProgressSender::broken() const {
  std::lock_guard<std::mutex> lock(mu_);
  return broken_;
}

size_t ProgressSender::queued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

void ProgressSender::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    changed_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (stopping_ || broken_) return;
    v1::TrainResponse event = std::move(queue_.front());
    queue_.pop_front();
    writing_ = true;
    lock.unlock();
    const bool written = write_(event);
    lock.lock();
    writing_ = false;
    if (!written) {
      broken_ = true;
      queue_.clear();
    }
    changed_.notify_all();
  }
}

}  // namespace bnmlp
