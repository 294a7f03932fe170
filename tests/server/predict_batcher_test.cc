#include "server/predict_batcher.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <future>
#include <limits>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "core/compute_pool.h"
#include "core/inference_model.h"
#include "core/model.h"
#include "gtest/gtest.h"

namespace bnmlp {
namespace {

constexpr float kTolerance = 1e-5f;
// The bound on every wait for an event (never a timing assertion: a
// correct batcher is far faster, even under the sanitizers).
constexpr std::chrono::seconds kEventTimeout{30};

// A 784-256-128-10 classifier (big enough for merged products to use the
// compute pool); `seed` tells versions apart.
std::shared_ptr<const InferenceModel<float>> MakeModel(uint64_t seed,
                                                       ComputePool& pool) {
  ModelConfig config;
  config.layer_sizes = {784, 256, 128, 10};
  config.seed = seed;
  absl::StatusOr<Model<float>> model = Model<float>::Create(config);
  EXPECT_TRUE(model.ok()) << model.status();
  return std::make_shared<const InferenceModel<float>>(
      InferenceModel<float>::FromModel(*model, pool));
}

// One call's samples, its expected outputs (the model's, computed alone)
// and the buffer the batcher writes into (NaN until written).
struct CallCase {
  CallCase(const InferenceModel<float>& model, int64_t rows, unsigned seed)
      : model(&model),
        expected(model.output_size(), rows),
        outputs(
            Matrix<float>::Constant(model.output_size(), rows,
                                    std::numeric_limits<float>::quiet_NaN())) {
    std::srand(seed);
    x = Matrix<float>::Random(model.input_size(), rows);
    PredictWorkspace<float> workspace;
    EXPECT_TRUE(
        Predict(model, Input(),
                MatrixMap<float>(expected.data(), expected.rows(), rows),
                workspace)
            .ok());
  }
  PredictInput<float> Input() const {
    return *ValidatePredictInput(
        *model, ConstMatrixMap<float>(x.data(), x.rows(), x.cols()));
  }
  MatrixMap<float> OutputMap() {
    return MatrixMap<float>(outputs.data(), outputs.rows(), outputs.cols());
  }
  float MaxError() const { return (outputs - expected).cwiseAbs().maxCoeff(); }
  bool OutputsUntouched() const { return outputs.array().isNaN().all(); }

  const InferenceModel<float>* model;
  Matrix<float> x;
  Matrix<float> expected;
  Matrix<float> outputs;
};

class TestCall;

// The order in which Done ran over several calls.
class DoneLog {
 public:
  void Record(const TestCall* call) {
    std::lock_guard<std::mutex> lock(mu_);
    order_.push_back(call);
  }
  std::vector<const TestCall*> order() const {
    std::lock_guard<std::mutex> lock(mu_);
    return order_;
  }

 private:
  mutable std::mutex mu_;  // held to append or copy only
  std::vector<const TestCall*> order_;
};

// A CallCase submitted as a PredictBatcher::Call: records how often Done
// ran, its status and thread; optionally blocks in Done (after recording)
// to hold its leader busy. Nothing touches the call after Done's record,
// so a waiter may destroy it once AwaitDone returned (unless it holds).
class TestCall : public CallCase, public PredictBatcher::Call {
 public:
  TestCall(const InferenceModel<float>& model, int64_t rows, unsigned seed,
           DoneLog* log = nullptr)
      : CallCase(model, rows, seed),
        PredictBatcher::Call(Input(), OutputMap()),
        log_(log) {}

  // Done blocks until `release` is ready.
  void HoldDoneUntil(std::shared_future<void> release) {
    hold_ = std::move(release);
  }

  void Done(absl::Status status) override {
    std::shared_future<void> hold;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++done_count_;
      status_ = std::move(status);
      done_thread_ = std::this_thread::get_id();
      if (log_ != nullptr) log_->Record(this);
      hold = hold_;
      done_cv_.notify_all();
    }
    if (hold.valid()) hold.wait();
  }

  // Waits (bounded) until Done has run (or started holding).
  bool AwaitDone() {
    std::unique_lock<std::mutex> lock(mu_);
    return done_cv_.wait_for(lock, kEventTimeout,
                             [this] { return done_count_ > 0; });
  }
  int done_count() const {
    std::lock_guard<std::mutex> lock(mu_);
    return done_count_;
  }
  absl::Status status() const {
    std::lock_guard<std::mutex> lock(mu_);
    return status_;
  }
  std::thread::id done_thread() const {
    std::lock_guard<std::mutex> lock(mu_);
    return done_thread_;
  }

 private:
  DoneLog* const log_;
  std::shared_future<void> hold_;  // set before Submit
  mutable std::mutex mu_;          // held to record or read Done's facts
  std::condition_variable done_cv_;
  int done_count_ = 0;
  absl::Status status_ = absl::UnknownError("Done never ran");
  std::thread::id done_thread_;
};

// Whether Done ran exactly once, with OK, after the batcher wrote the
// call's own outputs (its model's answer alone, within kTolerance).
::testing::AssertionResult ComputedOnceCorrectly(const TestCall& call) {
  if (call.done_count() != 1) {
    return ::testing::AssertionFailure()
           << "Done ran " << call.done_count() << " times";
  }
  if (!call.status().ok()) {
    return ::testing::AssertionFailure() << "Done got " << call.status();
  }
  if (call.MaxError() > kTolerance) {
    return ::testing::AssertionFailure() << "outputs of " << call.outputs.cols()
                                         << " rows off by " << call.MaxError();
  }
  return ::testing::AssertionSuccess();
}

void Submit(PredictBatcher& batcher, TestCall& call) {
  batcher.Submit(*call.model, call, PredictOptions());
}

bool Withdraw(PredictBatcher& batcher, TestCall& call) {
  return batcher.Withdraw(*call.model, call);
}

// Holds the leader of `first`'s model busy, deterministically: a thread
// submits `first` to the idle version (so it leads, inside Submit) and
// `first`'s Done blocks until Finish; calls submitted meanwhile only queue.
// Declare it after the calls it may compute (it finishes on destruction).
class BusyLeader {
 public:
  BusyLeader(PredictBatcher& batcher, TestCall& first) : first_(first) {
    first.HoldDoneUntil(release_.get_future().share());
    thread_ = std::thread([&batcher, &first] { Submit(batcher, first); });
    leader_ = thread_.get_id();
  }
  ~BusyLeader() { Finish(); }
  BusyLeader(const BusyLeader&) = delete;
  BusyLeader& operator=(const BusyLeader&) = delete;

  // Waits (bounded) until the leader sits in `first`'s Done.
  bool AwaitBusy() { return first_.AwaitDone(); }
  // Lets the leader go on and waits until its Submit returned: it computed
  // every call queued meanwhile.
  void Finish() {
    if (!released_) {
      released_ = true;
      release_.set_value();
    }
    if (thread_.joinable()) thread_.join();
  }
  std::thread::id leader() const { return leader_; }

 private:
  TestCall& first_;
  std::promise<void> release_;
  bool released_ = false;
  std::thread thread_;
  std::thread::id leader_;
};

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
