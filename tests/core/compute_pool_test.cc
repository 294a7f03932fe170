#include "core/compute_pool.h"

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "core/compute_threads.h"
#include "gtest/gtest.h"

namespace bnmlp {
namespace {

TEST(ComputePoolTest, RunsEveryChunkExactlyOnce) {
  ComputePool pool(3);
  EXPECT_EQ(pool.threads(), 3);
  for (int chunks : {0, 1, 2, 3, 7, 100}) {
    std::vector<std::atomic<int>> runs(chunks);
    pool.ParallelFor(chunks, [&](int i) { runs[i].fetch_add(1); });
    for (int i = 0; i < chunks; ++i) EXPECT_EQ(runs[i].load(), 1) << i;
  }
}

TEST(ComputePoolTest, UsesTheWorkersWhenFree) {
  ComputePool pool(2);
  std::atomic<int> arrived{0};
  std::vector<std::thread::id> ids(2);
  std::vector<char> met(2, 0);
  // Each chunk waits for the other, so both finish only if two threads run
  // them at once. The wait is bounded: run one after the other, the first
  // chunk gives up after kPatience and the test fails with a message
  // instead of hanging.
  constexpr std::chrono::seconds kPatience(10);
  pool.ParallelFor(2, [&](int i) {
    ids[i] = std::this_thread::get_id();
    arrived.fetch_add(1);
    const auto deadline = std::chrono::steady_clock::now() + kPatience;
    while (arrived.load() < 2 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
    met[i] = arrived.load() == 2;
  });
  EXPECT_TRUE(met[0] && met[1])
      << "a chunk waited " << kPatience.count()
      << " s for the other: the two chunks did not run at the same time";
  EXPECT_NE(ids[0], ids[1]);
}

TEST(ComputePoolTest, CountsItsParallelForCalls) {
  ComputePool pool(2);
  EXPECT_EQ(pool.parallel_for_calls(), 0);
  pool.ParallelFor(2, [](int) {});
  pool.ParallelFor(1, [](int) {});  // counted even when it runs inline
  EXPECT_EQ(pool.parallel_for_calls(), 2);
}

TEST(ComputePoolTest, ConcurrentCallersAllFinishWithCorrectResults) {
  ComputePool pool(2);
  std::vector<std::thread> callers;
  std::atomic<long> total{0};
  for (int t = 0; t < 8; ++t) {
    callers.emplace_back([&] {
      for (int round = 0; round < 200; ++round) {
        std::vector<int> out(16, 0);
        pool.ParallelFor(16, [&](int i) { out[i] = i * i; });
        long sum = 0;
        for (int v : out) sum += v;
        total.fetch_add(sum);
      }
    });
  }
  for (std::thread& t : callers) t.join();
  EXPECT_EQ(total.load(), 8L * 200 * 1240);  // sum of i^2, i < 16
}

TEST(ComputePoolTest, SetComputeThreadsResizesTheDefaultPool) {
  SetComputeThreads(1);
  EXPECT_EQ(ComputeThreads(), 1);
  SetComputeThreads(2);
  EXPECT_EQ(ComputeThreads(), 2);
  SetComputeThreads(0);
  EXPECT_EQ(ComputeThreads(), 1);
}

// Default() is a lock-free lookup that returns the same pool until
// SetComputeThreads replaces it; a pool taken before the replacement (which
// the contract says not to do) stays usable rather than dangling.
TEST(ComputePoolTest, DefaultIsStableAndReplacedPoolsStayAlive) {
  SetComputeThreads(2);
  ComputePool& before = ComputePool::Default();
  EXPECT_EQ(&ComputePool::Default(), &before);
  SetComputeThreads(3);
  ComputePool& after = ComputePool::Default();
  EXPECT_NE(&after, &before);
  EXPECT_EQ(after.threads(), 3);
  std::vector<std::atomic<int>> runs(4);
  before.ParallelFor(4, [&](int i) { runs[i].fetch_add(1); });
  for (int i = 0; i < 4; ++i) EXPECT_EQ(runs[i].load(), 1) << i;
}

TEST(ComputePoolTest, ConcurrentFirstCallsToDefaultAgree) {
  std::vector<ComputePool*> seen(8, nullptr);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&seen, t] { seen[t] = &ComputePool::Default(); });
  }
  for (std::thread& t : threads) t.join();
  for (ComputePool* pool : seen) EXPECT_EQ(pool, seen[0]);
}

}  // namespace
}  // namespace bnmlp
