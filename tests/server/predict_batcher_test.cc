// How concurrent Predicts merge in the PredictBatcher, queue behind a busy
// leader and leave; the max_delay queue: predict_batcher_delay_test.cc.
#include "server/predict_batcher.h"

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "core/compute_pool.h"
#include "gtest/gtest.h"
#include "tests/server/predict_batcher_test_util.h"

namespace bnmlp {
namespace {

using ::bnmlp::batcher_testing::BusyLeader;
using ::bnmlp::batcher_testing::CallCase;
using ::bnmlp::batcher_testing::ComputedOnceCorrectly;
using ::bnmlp::batcher_testing::DoneLog;
using ::bnmlp::batcher_testing::kTolerance;
using ::bnmlp::batcher_testing::MakeModel;
using ::bnmlp::batcher_testing::Submit;
using ::bnmlp::batcher_testing::TestCall;
using ::bnmlp::batcher_testing::Withdraw;

TEST(PredictBatcherTest, MergesOnlySmallCallsAndNothingWhenOff) {
  EXPECT_TRUE(PredictBatcher({64, {}}).Merges(1));
  EXPECT_TRUE(PredictBatcher({64, {}}).Merges(63));
  EXPECT_FALSE(PredictBatcher({64, {}}).Merges(64));
  EXPECT_FALSE(PredictBatcher({1, {}}).Merges(1));
  EXPECT_FALSE(PredictBatcher({0, {}}).Merges(1));
}

// An idle version adds no wait: the submitting thread computes its call
// alone and runs Done before Submit returns.
TEST(PredictBatcherTest, ACallAloneIsComputedInsideSubmit) {
  ComputePool pool(2);
  const auto model = MakeModel(1, pool);
  PredictBatcher batcher({64, {}});
  for (int64_t rows : {1, 5, 63}) {
    SCOPED_TRACE(rows);
    TestCall call(*model, rows, static_cast<unsigned>(rows));
    Submit(batcher, call);
    EXPECT_TRUE(ComputedOnceCorrectly(call));
    EXPECT_EQ(call.done_thread(), std::this_thread::get_id());
    EXPECT_EQ(batcher.active_versions(), 0u);
    EXPECT_EQ(batcher.waiting_calls(), 0u);
    EXPECT_FALSE(Withdraw(batcher, call));
  }
  EXPECT_EQ(batcher.merged_products(), 0);
}

// Calls of `rows` samples queued behind a busy leader: Submit returns at
// once, and once the leader is free it computes them in arrival order, in
// products of whole calls of at most max_rows rows, `merged` of which merge
// two calls or more, each call getting its own outputs.
void ExpectQueuedCallsMerge(const InferenceModel<float>& model,
                            int64_t max_rows, const std::vector<int64_t>& rows,
                            int64_t merged) {
  PredictBatcher batcher({max_rows, {}});
  TestCall first(model, 1, 100);
  DoneLog log;
  std::vector<std::unique_ptr<TestCall>> queued;
  for (size_t i = 0; i < rows.size(); ++i) {
    queued.push_back(std::make_unique<TestCall>(
        model, rows[i], static_cast<unsigned>(i + 1), &log));
  }
  BusyLeader leader(batcher, first);
  ASSERT_TRUE(leader.AwaitBusy());
  for (const auto& call : queued) {
    Submit(batcher, *call);
    EXPECT_EQ(call->done_count(), 0);
  }
  EXPECT_EQ(batcher.waiting_calls(), queued.size());
  EXPECT_EQ(batcher.active_versions(), 1u);
  EXPECT_EQ(batcher.merged_products(), 0);  // `first` computed alone

  leader.Finish();
  EXPECT_EQ(batcher.merged_products(), merged);
  std::vector<const TestCall*> arrival;
  for (const auto& call : queued) {
    arrival.push_back(call.get());
    EXPECT_TRUE(ComputedOnceCorrectly(*call));
    EXPECT_EQ(call->done_thread(), leader.leader());
  }
  EXPECT_EQ(log.order(), arrival);
  EXPECT_TRUE(ComputedOnceCorrectly(first));
  EXPECT_EQ(batcher.active_versions(), 0u);
  EXPECT_EQ(batcher.waiting_calls(), 0u);
}

TEST(PredictBatcherTest, CallsQueuedBehindABusyLeaderMergeUpToMaxRows) {
  ComputePool pool(2);
  const auto model = MakeModel(2, pool);
  {
    SCOPED_TRACE("6 one-row calls, max_rows 4: products of 4 and 2");
    ExpectQueuedCallsMerge(*model, 4, {1, 1, 1, 1, 1, 1}, 2);
  }
  {
    SCOPED_TRACE("max_rows 4, whole calls in order: [3] [2 2] [1]");
    ExpectQueuedCallsMerge(*model, 4, {3, 2, 2, 1}, 1);
  }
  {
    SCOPED_TRACE("exactly max_rows 8 in one product: [1 2 3 2]");
    ExpectQueuedCallsMerge(*model, 8, {1, 2, 3, 2}, 1);
  }
  {
    SCOPED_TRACE("no two calls fit together: [3] [3] [3]");
    ExpectQueuedCallsMerge(*model, 4, {3, 3, 3}, 0);
  }
}

// Many threads, mixed row counts, two versions at once, some calls
// withdrawn right after Submit: every call that was not withdrawn gets
// exactly its own model's answer (never the other version's, never another
// call's rows) from exactly one Done; a withdrawn call's Done never runs
// and its outputs stay untouched; no per-version state outlives the calls.
TEST(PredictBatcherTest, ConcurrentCallsOnTwoVersionsAreNeverMixed) {
  ComputePool pool(2);
  const auto version1 = MakeModel(1, pool);
  const auto version2 = MakeModel(2, pool);
  constexpr int kThreads = 12;
  constexpr int kCallsPerThread = 25;
  const int64_t kRows[] = {1, 2, 3, 5, 8, 13, 31};
  std::vector<std::vector<std::unique_ptr<TestCall>>> cases(kThreads);
  std::vector<std::vector<char>> withdrawn(
      kThreads, std::vector<char>(kCallsPerThread, 0));
  for (int t = 0; t < kThreads; ++t) {
    for (int c = 0; c < kCallsPerThread; ++c) {
      const InferenceModel<float>& model =
          (t + c) % 2 == 0 ? *version1 : *version2;
      cases[t].push_back(std::make_unique<TestCall>(
          model, kRows[(t * 7 + c) % 7], 1000 * t + c + 1));
    }
  }
  // The two versions disagree, so a mix-up could not go unnoticed.
  ASSERT_GT((cases[0][0]->expected - CallCase(*version2, kRows[0], 1).expected)
                .cwiseAbs()
                .maxCoeff(),
            1e-3f);
  PredictBatcher batcher({32, {}});
  std::atomic<int> timeouts{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int c = 0; c < kCallsPerThread; ++c) {
        TestCall& call = *cases[t][c];
        Submit(batcher, call);
        if (c % 4 == 3 && Withdraw(batcher, call)) withdrawn[t][c] = 1;
      }
      for (int c = 0; c < kCallsPerThread; ++c) {
        if (!withdrawn[t][c] && !cases[t][c]->AwaitDone()) ++timeouts;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(timeouts.load(), 0);
  // How much merging and withdrawing the scheduling allowed (not asserted).
  int withdrawn_calls = 0;
  for (int t = 0; t < kThreads; ++t) {
    for (int c = 0; c < kCallsPerThread; ++c) {
      const TestCall& call = *cases[t][c];
      if (withdrawn[t][c]) {
        ++withdrawn_calls;
        EXPECT_EQ(call.done_count(), 0) << "thread " << t << " call " << c;
        EXPECT_TRUE(call.OutputsUntouched()) << "thread " << t << " call " << c;
        continue;
      }
      EXPECT_TRUE(ComputedOnceCorrectly(call))
          << "thread " << t << " call " << c;
    }
  }
  ::testing::Test::RecordProperty("merged_products",
                                  static_cast<int>(batcher.merged_products()));
  ::testing::Test::RecordProperty("withdrawn_calls", withdrawn_calls);
  EXPECT_EQ(batcher.active_versions(), 0u);
  EXPECT_EQ(batcher.waiting_calls(), 0u);
}

// A queued call withdrawn (its client cancelled) leaves at once: its Done
// never runs and its outputs stay untouched, while the calls around it
// complete, merged together. A call taken or done can no longer leave.
TEST(PredictBatcherTest, AWithdrawnCallNeverCompletesWhileOthersDo) {
  ComputePool pool(2);
  const auto model = MakeModel(3, pool);
  PredictBatcher batcher({8, {}});
  TestCall first(*model, 1, 1);
  TestCall before(*model, 1, 2);
  TestCall leaving(*model, 2, 3);
  TestCall after(*model, 3, 4);
  BusyLeader leader(batcher, first);
  ASSERT_TRUE(leader.AwaitBusy());
  Submit(batcher, before);
  Submit(batcher, leaving);
  Submit(batcher, after);
  ASSERT_EQ(batcher.waiting_calls(), 3u);

  EXPECT_TRUE(Withdraw(batcher, leaving));
  EXPECT_EQ(batcher.waiting_calls(), 2u);
  EXPECT_FALSE(Withdraw(batcher, leaving));  // not queued any more
  EXPECT_FALSE(Withdraw(batcher, first));    // computed, in its Done

  leader.Finish();
  EXPECT_EQ(leaving.done_count(), 0);
  EXPECT_TRUE(leaving.OutputsUntouched());
  for (const TestCall* call : {&first, &before, &after}) {
    EXPECT_TRUE(ComputedOnceCorrectly(*call));
  }
  EXPECT_EQ(batcher.merged_products(), 1);  // before + after
  EXPECT_FALSE(Withdraw(batcher, before));  // done
  EXPECT_EQ(batcher.active_versions(), 0u);
  EXPECT_EQ(batcher.waiting_calls(), 0u);
}

// A call that owns itself and is destroyed inside its own Done (as a gRPC
// reactor may be); `results` records what it saw. ASan checks that the
// batcher touches no call after its Done.
class SelfDestroyingCall : public CallCase, public PredictBatcher::Call {
 public:
  struct Results {
    std::mutex mu;  // held to record one result
    std::vector<float> errors;
    int failures = 0;
  };

  SelfDestroyingCall(const InferenceModel<float>& model, int64_t rows,
                     unsigned seed, std::unique_ptr<SelfDestroyingCall>& slot,
                     Results& results)
      : CallCase(model, rows, seed),
        PredictBatcher::Call(Input(), OutputMap()),
        slot_(slot),
        results_(results) {}

  void Done(absl::Status status) override {
    {
      std::lock_guard<std::mutex> lock(results_.mu);
      if (!status.ok()) ++results_.failures;
      results_.errors.push_back(MaxError());
    }
    std::unique_ptr<SelfDestroyingCall> self = std::move(slot_);
    // `self` destroys this call on return.
  }

 private:
  std::unique_ptr<SelfDestroyingCall>& slot_;
  SelfDestroyingCall::Results& results_;
};

TEST(PredictBatcherTest, CallsMayBeDestroyedInsideDone) {
  ComputePool pool(2);
  const auto model = MakeModel(4, pool);
  PredictBatcher batcher({16, {}});
  SelfDestroyingCall::Results results;
  std::vector<std::unique_ptr<SelfDestroyingCall>> slots(4);
  {
    TestCall first(*model, 1, 1);
    BusyLeader leader(batcher, first);
    ASSERT_TRUE(leader.AwaitBusy());
    for (size_t i = 0; i + 1 < slots.size(); ++i) {  // merged behind it
      slots[i] = std::make_unique<SelfDestroyingCall>(
          *model, static_cast<int64_t>(i + 1), static_cast<unsigned>(i + 2),
          slots[i], results);
      batcher.Submit(*model, *slots[i], PredictOptions());
    }
    leader.Finish();
  }
  slots.back() =
      std::make_unique<SelfDestroyingCall>(*model, 2, 9, slots.back(), results);
  batcher.Submit(*model, *slots.back(), PredictOptions());  // alone
  for (const auto& slot : slots) EXPECT_EQ(slot, nullptr);
  EXPECT_EQ(results.failures, 0);
  ASSERT_EQ(results.errors.size(), slots.size());
  for (float error : results.errors) EXPECT_LE(error, kTolerance);
  EXPECT_EQ(batcher.merged_products(), 1);
  EXPECT_EQ(batcher.active_versions(), 0u);
}

}  // namespace
}  // namespace bnmlp
