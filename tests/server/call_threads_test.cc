#include "server/call_threads.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace bnmlp {
namespace {

// A gate the test opens: work blocks on it, as a Predict waits for a slot.
class Gate {
 public:
  void Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    ++waiting_;
    changed_.notify_all();
    changed_.wait(lock, [this] { return open_; });
  }
  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    changed_.notify_all();
  }
  // Waits (bounded) until `n` callers wait at the gate; false on timeout.
  bool AwaitWaiting(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    return changed_.wait_for(lock, std::chrono::seconds(30),
                             [&] { return waiting_ >= n; });
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  int waiting_ = 0;
  bool open_ = false;
};

TEST(CallThreadsTest, BlockedWorkNeverDelaysOtherWork) {
  // Eight pieces of work that all block at once: each must have a thread of
  // its own, or the gate would never see eight waiters.
  CallThreads threads(/*max_idle=*/1);
  Gate gate;
  std::mutex ids_mu;
  std::set<std::thread::id> ids;
  std::atomic<int> done{0};
  for (int i = 0; i < 8; ++i) {
    threads.Run([&] {
      {
        std::lock_guard<std::mutex> lock(ids_mu);
        ids.insert(std::this_thread::get_id());
      }
      gate.Wait();
      done.fetch_add(1);
    });
  }
  ASSERT_TRUE(gate.AwaitWaiting(8));
  EXPECT_EQ(ids.size(), 8u);
  EXPECT_NE(ids.count(std::this_thread::get_id()), 1u);
  gate.Open();
  // Threads beyond max_idle leave once their work is done; the next Run
  // joins them.
  for (int spins = 0; done.load() < 8 && spins < 30000; ++spins) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(done.load(), 8);
}

TEST(CallThreadsTest, IdleThreadsAreReusedAndExtraOnesExit) {
  CallThreads threads(/*max_idle=*/2);
  Gate gate;
  for (int i = 0; i < 6; ++i) threads.Run([&] { gate.Wait(); });
  ASSERT_TRUE(gate.AwaitWaiting(6));
  EXPECT_EQ(threads.threads(), 6);
  gate.Open();
  // All six finish; at most two stay (idle), the rest exit.
  for (int spins = 0; threads.threads() > 2 && spins < 30000; ++spins) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(threads.threads(), 2);
  // Sequential work then runs on those idle threads: no new thread. (Each
  // round first waits for the last one's thread to be idle again: it
  // signals the test before its work returns.)
  for (int i = 0; i < 20; ++i) {
    for (int spins = 0;
         threads.idle_threads() < threads.threads() && spins < 30000; ++spins) {
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    std::mutex mu;
    std::condition_variable cv;
    bool ran = false;
    threads.Run([&] {
      std::lock_guard<std::mutex> lock(mu);
      ran = true;
      cv.notify_one();
    });
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(
        cv.wait_for(lock, std::chrono::seconds(30), [&] { return ran; }));
  }
  EXPECT_LE(threads.threads(), 2);
}

TEST(CallThreadsTest, DestructionRunsWorkAlreadyHandedOver) {
  std::atomic<int> ran{0};
  {
    CallThreads threads(/*max_idle=*/0);
    for (int i = 0; i < 16; ++i) {
      threads.Run([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        ran.fetch_add(1);
      });
    }
  }
  EXPECT_EQ(ran.load(), 16);
}

}  // namespace
}  // namespace bnmlp
