#include "core/compute_pool.h"

#include <atomic>
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
  std::atomic<int> waiting{0};
  std::vector<std::thread::id> ids(2);
  // Each chunk waits for the other: only two threads at once can finish.
  pool.ParallelFor(2, [&](int i) {
    ids[i] = std::this_thread::get_id();
    waiting.fetch_add(1);
    while (waiting.load() < 2) std::this_thread::yield();
  });
  EXPECT_NE(ids[0], ids[1]);
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

}  // namespace
}  // namespace bnmlp
