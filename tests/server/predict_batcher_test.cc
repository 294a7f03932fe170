#include "server/predict_batcher.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <thread>
#include <vector>

#include "core/compute_pool.h"
#include "core/inference_model.h"
#include "core/model.h"
#include "gtest/gtest.h"

namespace bnmlp {
namespace {

using Clock = PredictBatcher::Clock;

constexpr float kTolerance = 1e-5f;

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
    const PredictInput<float> in = Input();
    EXPECT_TRUE(
        Predict(model, in,
                MatrixMap<float>(expected.data(), expected.rows(), rows),
                workspace)
            .ok());
  }
  PredictInput<float> Input() const {
    return *ValidatePredictInput(
        *model, ConstMatrixMap<float>(x.data(), x.rows(), x.cols()));
  }
  absl::Status Run(
      PredictBatcher& batcher, Clock::time_point deadline,
      const std::function<bool()>& stop = [] { return false; }) {
    thread_local PredictWorkspace<float> workspace;
    return batcher.Run(
        *model, Input(),
        MatrixMap<float>(outputs.data(), outputs.rows(), outputs.cols()),
        workspace, PredictOptions(), deadline, stop);
  }
  float MaxError() const { return (outputs - expected).cwiseAbs().maxCoeff(); }

  const InferenceModel<float>* model;
  Matrix<float> x;
  Matrix<float> expected;
  Matrix<float> outputs;
};

Clock::time_point FarDeadline() { return Clock::now() + std::chrono::hours(1); }

TEST(PredictBatcherTest, MergesOnlySmallCallsAndNothingWhenOff) {
  EXPECT_TRUE(PredictBatcher({64, {}}).Merges(1));
  EXPECT_TRUE(PredictBatcher({64, {}}).Merges(63));
  EXPECT_FALSE(PredictBatcher({64, {}}).Merges(64));
  EXPECT_FALSE(PredictBatcher({1, {}}).Merges(1));
  EXPECT_FALSE(PredictBatcher({0, {}}).Merges(1));
}

// A leader that waits for max_rows rows takes every call in one product:
// the merge is certain, whatever the scheduling.
TEST(PredictBatcherTest, OneMergedProductGivesEachCallItsOwnOutputs) {
  ComputePool pool(2);
  const auto model = MakeModel(1, pool);
  PredictBatcher batcher({16, std::chrono::hours(1)});
  std::vector<std::unique_ptr<CallCase>> calls;
  unsigned seed = 1;
  for (int64_t rows : {1, 2, 3, 4, 6}) {  // 16 rows together
    calls.push_back(std::make_unique<CallCase>(*model, rows, seed++));
  }
  std::vector<absl::Status> statuses(calls.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < calls.size(); ++i) {
    threads.emplace_back(
        [&, i] { statuses[i] = calls[i]->Run(batcher, FarDeadline()); });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(batcher.merged_products(), 1);
  for (size_t i = 0; i < calls.size(); ++i) {
    EXPECT_TRUE(statuses[i].ok()) << statuses[i];
    EXPECT_LE(calls[i]->MaxError(), kTolerance) << "call " << i;
  }
  EXPECT_EQ(batcher.active_versions(), 0u);
}

// Many threads, mixed row counts, two versions at once: every call gets
// exactly its own model's answer (never the other version's, never another
// call's rows), and no per-version state outlives the calls.
TEST(PredictBatcherTest, ConcurrentCallsOnTwoVersionsAreNeverMixed) {
  ComputePool pool(2);
  const auto version1 = MakeModel(1, pool);
  const auto version2 = MakeModel(2, pool);
  PredictBatcher batcher({32, {}});
  constexpr int kThreads = 12;
  constexpr int kCallsPerThread = 25;
  const int64_t kRows[] = {1, 2, 3, 5, 8, 13, 31};
  std::vector<std::vector<std::unique_ptr<CallCase>>> cases(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    for (int c = 0; c < kCallsPerThread; ++c) {
      const InferenceModel<float>& model =
          (t + c) % 2 == 0 ? *version1 : *version2;
      cases[t].push_back(std::make_unique<CallCase>(
          model, kRows[(t * 7 + c) % 7], 1000 * t + c + 1));
    }
  }
  // The two versions disagree, so a mix-up could not go unnoticed.
  ASSERT_GT((cases[0][0]->expected - CallCase(*version2, kRows[0], 1).expected)
                .cwiseAbs()
                .maxCoeff(),
            1e-3f);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (auto& call : cases[t]) {
        if (!call->Run(batcher, FarDeadline()).ok()) ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  // How much merging the scheduling allowed (not asserted: timing).
  ::testing::Test::RecordProperty("merged_products",
                                  static_cast<int>(batcher.merged_products()));
  for (int t = 0; t < kThreads; ++t) {
    for (int c = 0; c < kCallsPerThread; ++c) {
      EXPECT_LE(cases[t][c]->MaxError(), kTolerance)
          << "thread " << t << " call " << c;
    }
  }
  EXPECT_EQ(batcher.active_versions(), 0u);
  EXPECT_EQ(batcher.waiting_calls(), 0u);
}

// Waits (bounded) until `calls` calls are queued.
bool AwaitWaitingCalls(const PredictBatcher& batcher, size_t calls) {
  for (int i = 0; i < 10000 && batcher.waiting_calls() != calls; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return batcher.waiting_calls() == calls;
}

// A leader waits for 16 rows; a queued call whose deadline passes (and one
// whose client cancels) leave with CANCELLED and untouched outputs, while
// the leader and a later call complete together.
TEST(PredictBatcherTest, QueuedCallsLeaveOnTheirDeadlineWhileOthersComplete) {
  ComputePool pool(2);
  const auto model = MakeModel(3, pool);
  PredictBatcher batcher({16, std::chrono::hours(1)});
  CallCase leader(*model, 1, 1);
  CallCase expiring(*model, 1, 2);
  CallCase cancelled(*model, 2, 3);
  CallCase completing(*model, 15, 4);  // 1 + 15: the leader's 16 rows

  absl::Status leader_status;
  std::thread leader_thread(
      [&] { leader_status = leader.Run(batcher, FarDeadline()); });
  ASSERT_TRUE(AwaitWaitingCalls(batcher, 1));

  const absl::Status expired =
      expiring.Run(batcher, Clock::now() + std::chrono::milliseconds(30));
  EXPECT_EQ(expired.code(), absl::StatusCode::kCancelled) << expired;
  EXPECT_TRUE(expiring.outputs.array().isNaN().all());

  std::atomic<bool> client_gone{false};
  absl::Status cancelled_status;
  std::thread cancelled_thread([&] {
    cancelled_status = cancelled.Run(batcher, FarDeadline(),
                                     [&] { return client_gone.load(); });
  });
  ASSERT_TRUE(AwaitWaitingCalls(batcher, 2));
  client_gone = true;
  cancelled_thread.join();
  EXPECT_EQ(cancelled_status.code(), absl::StatusCode::kCancelled);
  EXPECT_TRUE(cancelled.outputs.array().isNaN().all());
  EXPECT_EQ(batcher.waiting_calls(), 1u);  // the leader, still waiting

  const absl::Status completed = completing.Run(batcher, FarDeadline());
  leader_thread.join();
  EXPECT_TRUE(completed.ok()) << completed;
  EXPECT_TRUE(leader_status.ok()) << leader_status;
  EXPECT_EQ(batcher.merged_products(), 1);
  EXPECT_LE(leader.MaxError(), kTolerance);
  EXPECT_LE(completing.MaxError(), kTolerance);
  EXPECT_EQ(batcher.active_versions(), 0u);
}

// A leader whose own call stops while it waits for more rows leaves with
// CANCELLED and hands leadership to the next waiting call, which then
// completes with a later one.
TEST(PredictBatcherTest, AStoppedLeaderHandsOnLeadership) {
  ComputePool pool(2);
  const auto model = MakeModel(4, pool);
  PredictBatcher batcher({16, std::chrono::hours(1)});
  CallCase leader(*model, 1, 1);
  CallCase next_leader(*model, 2, 2);
  CallCase last(*model, 14, 3);  // 2 + 14: the next leader's 16 rows
  std::atomic<bool> leader_gone{false};
  absl::Status leader_status;
  std::thread leader_thread([&] {
    leader_status =
        leader.Run(batcher, FarDeadline(), [&] { return leader_gone.load(); });
  });
  ASSERT_TRUE(AwaitWaitingCalls(batcher, 1));
  absl::Status next_status;
  std::thread next_thread(
      [&] { next_status = next_leader.Run(batcher, FarDeadline()); });
  ASSERT_TRUE(AwaitWaitingCalls(batcher, 2));
  leader_gone = true;
  leader_thread.join();
  EXPECT_EQ(leader_status.code(), absl::StatusCode::kCancelled);
  EXPECT_TRUE(leader.outputs.array().isNaN().all());
  const absl::Status last_status = last.Run(batcher, FarDeadline());
  next_thread.join();
  EXPECT_TRUE(next_status.ok()) << next_status;
  EXPECT_TRUE(last_status.ok()) << last_status;
  EXPECT_EQ(batcher.merged_products(), 1);
  EXPECT_LE(next_leader.MaxError(), kTolerance);
  EXPECT_LE(last.MaxError(), kTolerance);
  EXPECT_EQ(batcher.active_versions(), 0u);
}

}  // namespace
}  // namespace bnmlp
