// How an epoch is cut into mini-batches, and the seeded shuffle.
#ifndef BNMLP_CORE_BATCH_SCHEDULE_H_
#define BNMLP_CORE_BATCH_SCHEDULE_H_

#include <cstdint>
#include <random>
#include <vector>

namespace bnmlp {

// Batches of `batch_size` samples in order; a batch_size >= N gives one
// batch of N. A last batch of one sample is merged into the one before
// (BatchNorm cannot train on one sample), so no batch has size 1 unless
// N == 1. Requires N >= 1 and batch_size >= 1.
class BatchSchedule {
 public:
  BatchSchedule(int64_t num_samples, int64_t batch_size);

  int64_t num_batches() const { return num_batches_; }
  // [begin, end) sample positions of batch i (0-based).
  int64_t begin(int64_t i) const { return i * batch_size_; }
  int64_t end(int64_t i) const;
  int64_t largest_batch() const;

 private:
  int64_t num_samples_;
  int64_t batch_size_;
  int64_t num_batches_;
};

// A deterministic sequence of epoch permutations: the same seed gives the
// same orders on every platform (own Fisher-Yates over std::mt19937_64,
// whose output the standard fixes).
class Shuffler {
 public:
  Shuffler(int64_t num_samples, uint64_t seed);
  // Reshuffles and returns the order for the next epoch.
  const std::vector<int64_t>& NextEpoch();

 private:
  std::mt19937_64 rng_;
  std::vector<int64_t> order_;
};

}  // namespace bnmlp

#endif  // BNMLP_CORE_BATCH_SCHEDULE_H_
