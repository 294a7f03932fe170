// The PredictBatcher with max_delay (--batch_max_delay_us): a lone call
// waits for company, and the delay thread computes what never fills
// max_rows.
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "core/compute_pool.h"
#include "gtest/gtest.h"
#include "server/predict_batcher.h"
#include "tests/server/predict_batcher_test_util.h"

namespace bnmlp {
namespace {

using ::bnmlp::batcher_testing::ComputedOnceCorrectly;
using ::bnmlp::batcher_testing::kEventTimeout;
using ::bnmlp::batcher_testing::MakeModel;
using ::bnmlp::batcher_testing::Submit;
using ::bnmlp::batcher_testing::TestCall;
using ::bnmlp::batcher_testing::Withdraw;

// With max_delay, a lone call waits for company instead of computing
// inside Submit; the call that brings the queue to max_rows leads it at
// once, before its Submit returns. (The delay is an hour: it never fires.)
TEST(PredictBatcherTest, TheCallThatFillsMaxRowsLeadsTheDelayedQueue) {
  ComputePool pool(2);
  const auto model = MakeModel(5, pool);
  TestCall lone(*model, 1, 1);
  TestCall second(*model, 2, 2);
  TestCall filling(*model, 5, 3);  // 1 + 2 + 5: max_rows
  PredictBatcher batcher({8, std::chrono::hours(1)});
  Submit(batcher, lone);
  EXPECT_EQ(lone.done_count(), 0);
  EXPECT_EQ(batcher.waiting_calls(), 1u);
  Submit(batcher, second);
  EXPECT_EQ(second.done_count(), 0);
  EXPECT_EQ(batcher.waiting_calls(), 2u);

  Submit(batcher, filling);
  for (const TestCall* call : {&lone, &second, &filling}) {
    EXPECT_TRUE(ComputedOnceCorrectly(*call));
    EXPECT_EQ(call->done_thread(), std::this_thread::get_id());
  }
  EXPECT_EQ(batcher.merged_products(), 1);
  EXPECT_EQ(batcher.waiting_calls(), 0u);
}

// Waits (bounded) until no version has calls queued or computing (or a
// delay pending): the delay thread has left every queue.
bool AwaitIdle(const PredictBatcher& batcher) {
  const auto deadline = std::chrono::steady_clock::now() + kEventTimeout;
  while (batcher.active_versions() != 0) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// Calls that never reach max_rows are computed by the delay thread once
// max_delay passed, never inside Submit, each with its own outputs.
TEST(PredictBatcherTest, TheDelayThreadComputesCallsThatNeverFillMaxRows) {
  ComputePool pool(2);
  const auto model = MakeModel(6, pool);
  std::vector<std::unique_ptr<TestCall>> calls;
  for (int64_t rows : {1, 2, 3}) {
    calls.push_back(
        std::make_unique<TestCall>(*model, rows, static_cast<unsigned>(rows)));
  }
  PredictBatcher batcher({64, std::chrono::milliseconds(20)});
  for (const auto& call : calls) Submit(batcher, *call);
  for (const auto& call : calls) ASSERT_TRUE(call->AwaitDone());
  // Only the delay thread leads a queue that stays below max_rows.
  const std::thread::id delay_thread = calls.front()->done_thread();
  EXPECT_NE(delay_thread, std::this_thread::get_id());
  for (const auto& call : calls) {
    EXPECT_TRUE(ComputedOnceCorrectly(*call));
    EXPECT_EQ(call->done_thread(), delay_thread);
  }
  ::testing::Test::RecordProperty("merged_products",
                                  static_cast<int>(batcher.merged_products()));
  EXPECT_TRUE(AwaitIdle(batcher));
  EXPECT_EQ(batcher.waiting_calls(), 0u);
}

// A delay does not hold its queue: once its only call is withdrawn the
// version's state is gone at once (a version freed then, and another built
// at the same address, gets a queue of its own, with its own chunking).
TEST(PredictBatcherTest, APendingDelayKeepsNoQueueAlive) {
  ComputePool pool(2);
  const auto model = MakeModel(8, pool);
  TestCall withdrawn(*model, 1, 1);
  PredictBatcher batcher({8, std::chrono::milliseconds(200)});
  Submit(batcher, withdrawn);
  EXPECT_EQ(batcher.active_versions(), 1u);
  EXPECT_TRUE(Withdraw(batcher, withdrawn));
  EXPECT_EQ(batcher.active_versions(), 0u);
  // A later call on the same address still completes (by its own delay,
  // or the old one's, which finds its queue when due).
  TestCall later(*model, 2, 2);
  Submit(batcher, later);
  ASSERT_TRUE(later.AwaitDone());
  EXPECT_TRUE(ComputedOnceCorrectly(later));
  EXPECT_EQ(withdrawn.done_count(), 0);
  EXPECT_TRUE(AwaitIdle(batcher));
}

// The delay thread stops cleanly: unused, and with a delay pending whose
// only call was withdrawn (which then never completes).
TEST(PredictBatcherTest, DestructsCleanlyWithADelayThread) {
  { PredictBatcher unused({8, std::chrono::milliseconds(50)}); }
  ComputePool pool(2);
  const auto model = MakeModel(7, pool);
  TestCall call(*model, 1, 1);
  {
    PredictBatcher batcher({8, std::chrono::hours(1)});
    Submit(batcher, call);
    EXPECT_EQ(batcher.waiting_calls(), 1u);
    EXPECT_TRUE(Withdraw(batcher, call));
    EXPECT_EQ(batcher.waiting_calls(), 0u);
  }
  EXPECT_EQ(call.done_count(), 0);
  EXPECT_TRUE(call.OutputsUntouched());
}

}  // namespace
}  // namespace bnmlp
