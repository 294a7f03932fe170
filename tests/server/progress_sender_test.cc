#include "server/progress_sender.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <vector>

#include "gtest/gtest.h"

namespace bnmlp {
namespace {

v1::TrainResponse Progress(int batch) {
  v1::TrainResponse event;
  event.mutable_progress()->set_batch(batch);
  return event;
}

v1::TrainResponse EpochEnd(int epoch) {
  v1::TrainResponse event;
  event.mutable_epoch_end()->set_epoch(epoch);
  return event;
}

// A client whose reads can be held back: writes block until Release().
class HeldClient {
 public:
  bool Write(const v1::TrainResponse& event) {
    std::unique_lock<std::mutex> lock(mu_);
    entered_ = true;
    changed_.notify_all();
    changed_.wait(lock, [this] { return released_; });
    written_.push_back(event);
    return !fail_;
  }
  void WaitUntilWriting() {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait(lock, [this] { return entered_; });
  }
  void Release(bool fail = false) {
    std::lock_guard<std::mutex> lock(mu_);
    released_ = true;
    fail_ = fail;
    changed_.notify_all();
  }
  std::vector<v1::TrainResponse> written() {
    std::lock_guard<std::mutex> lock(mu_);
    return written_;
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  bool entered_ = false;
  bool released_ = false;
  bool fail_ = false;
  std::vector<v1::TrainResponse> written_;
};

TEST(ProgressSenderTest, OffersNeverBlockOnAClientThatDoesNotRead) {
  HeldClient client;
  ProgressSender sender(
      [&](const v1::TrainResponse& e) { return client.Write(e); });
  ASSERT_TRUE(sender.Offer(EpochEnd(1)));
  client.WaitUntilWriting();  // the sender is stuck in the first write
  // Thousands of updates while the client reads nothing: all return at once
  // and progress coalesces, so the queue stays small.
  for (int epoch = 2; epoch <= 4; ++epoch) {
    for (int batch = 1; batch <= 1000; ++batch) {
      ASSERT_TRUE(sender.Offer(Progress(batch)));
    }
    ASSERT_TRUE(sender.Offer(EpochEnd(epoch)));
  }
  EXPECT_EQ(sender.queued(), 6u);  // 3 x (latest progress, epoch end)
  EXPECT_FALSE(sender.Flush(absl::Milliseconds(20)));
  client.Release();
  EXPECT_TRUE(sender.Flush(absl::Seconds(30)));
  // Every epoch end arrives, in order, each after its epoch's last progress.
  std::vector<std::string> seen;
  for (const v1::TrainResponse& event : client.written()) {
    seen.push_back(event.has_epoch_end()
                       ? "end" + std::to_string(event.epoch_end().epoch())
                       : "p" + std::to_string(event.progress().batch()));
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"end1", "p1000", "end2", "p1000",
                                            "end3", "p1000", "end4"}));
}

TEST(ProgressSenderTest, AFailedWriteBreaksTheStream) {
  HeldClient client;
  ProgressSender sender(
      [&](const v1::TrainResponse& e) { return client.Write(e); });
  ASSERT_TRUE(sender.Offer(EpochEnd(1)));
  ASSERT_TRUE(sender.Offer(EpochEnd(2)));
  client.Release(/*fail=*/true);
  EXPECT_FALSE(sender.Flush(absl::Seconds(30)));
  EXPECT_TRUE(sender.broken());
  EXPECT_FALSE(sender.Offer(EpochEnd(3)));
  EXPECT_EQ(sender.queued(), 0u);
}

TEST(ProgressSenderTest, DestroyingWithUnsentEventsReturnsOnceTheWriteEnds) {
  HeldClient client;
  {
    ProgressSender sender(
        [&](const v1::TrainResponse& e) { return client.Write(e); });
    ASSERT_TRUE(sender.Offer(EpochEnd(1)));
    ASSERT_TRUE(sender.Offer(EpochEnd(2)));
    client.WaitUntilWriting();
    client.Release(/*fail=*/true);  // what TryCancel does to a blocked Write
  }
  EXPECT_LE(client.written().size(), 2u);
}

}  // namespace
}  // namespace bnmlp
