#include "server/compute_slots.h"

#include <atomic>
#include <chrono>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace bnmlp {
namespace {

using Clock = ComputeSlots::Clock;

Clock::time_point InMilliseconds(int ms) {
  return Clock::now() + std::chrono::milliseconds(ms);
}

TEST(ComputeSlotsTest, SlotsAreReturnedWhenDestroyed) {
  ComputeSlots slots(2);
  EXPECT_EQ(slots.capacity(), 2);
  {
    std::optional<ComputeSlots::Slot> first = slots.Acquire(InMilliseconds(0));
    std::optional<ComputeSlots::Slot> second =
        slots.Acquire(Clock::time_point::max());
    ASSERT_TRUE(first.has_value());
    ASSERT_TRUE(second.has_value());
    EXPECT_EQ(slots.in_use(), 2);
  }
  EXPECT_EQ(slots.in_use(), 0);
}

TEST(ComputeSlotsTest, GivesUpAtTheDeadlineWhenAllAreTaken) {
  ComputeSlots slots(1);
  std::optional<ComputeSlots::Slot> held = slots.Acquire(InMilliseconds(0));
  ASSERT_TRUE(held.has_value());
  const Clock::time_point start = Clock::now();
  EXPECT_FALSE(slots.Acquire(InMilliseconds(20)).has_value());
  EXPECT_GE(Clock::now() - start, std::chrono::milliseconds(20));
  EXPECT_FALSE(slots.Acquire(Clock::now() - std::chrono::seconds(1)));
  EXPECT_EQ(slots.in_use(), 1);
}

TEST(ComputeSlotsTest, GivesUpWhenCancelledWhileWaiting) {
  ComputeSlots slots(1);
  std::optional<ComputeSlots::Slot> held = slots.Acquire(InMilliseconds(0));
  ASSERT_TRUE(held.has_value());
  std::atomic<bool> cancelled{false};
  std::thread canceller([&cancelled] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    cancelled = true;
  });
  // No deadline: only the cancellation can end the wait.
  EXPECT_FALSE(slots.Acquire(Clock::time_point::max(),
                             [&cancelled] { return cancelled.load(); }));
  canceller.join();
  EXPECT_EQ(slots.in_use(), 1);
  held.reset();
  EXPECT_TRUE(slots.Acquire(InMilliseconds(0), [] { return false; }));
}

TEST(ComputeSlotsTest, AFreedSlotWakesAWaiter) {
  ComputeSlots slots(1);
  std::optional<ComputeSlots::Slot> held = slots.Acquire(InMilliseconds(0));
  ASSERT_TRUE(held.has_value());
  std::thread releaser([&held] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    held.reset();
  });
  EXPECT_TRUE(slots.Acquire(Clock::time_point::max()).has_value());
  releaser.join();
  EXPECT_EQ(slots.in_use(), 0);
}

TEST(ComputeSlotsTest, MovingASlotKeepsOneHold) {
  ComputeSlots slots(2);
  std::optional<ComputeSlots::Slot> a = slots.Acquire(InMilliseconds(0));
  std::optional<ComputeSlots::Slot> b = slots.Acquire(InMilliseconds(0));
  ASSERT_TRUE(a.has_value() && b.has_value());
  ComputeSlots::Slot moved = *std::move(a);
  EXPECT_EQ(slots.in_use(), 2);
  moved = *std::move(b);  // returns the slot `moved` held before
  EXPECT_EQ(slots.in_use(), 1);
}

TEST(ComputeSlotsTest, NeverMoreHoldersThanSlots) {
  constexpr int kSlots = 2;
  ComputeSlots slots(kSlots);
  std::atomic<int> inside{0};
  std::atomic<int> most_inside{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int round = 0; round < 50; ++round) {
        std::optional<ComputeSlots::Slot> slot =
            slots.Acquire(Clock::time_point::max());
        ASSERT_TRUE(slot.has_value());
        const int now = ++inside;
        int seen = most_inside.load();
        while (now > seen && !most_inside.compare_exchange_weak(seen, now)) {
        }
        std::this_thread::yield();
        --inside;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_LE(most_inside.load(), kSlots);
  EXPECT_GE(most_inside.load(), 1);
  EXPECT_EQ(slots.in_use(), 0);
}

TEST(ComputeSlotsTest, AtLeastOneSlot) {
  ComputeSlots slots(0);
  EXPECT_EQ(slots.capacity(), 1);
  EXPECT_TRUE(slots.Acquire(InMilliseconds(0)).has_value());
}

}  // namespace
}  // namespace bnmlp
