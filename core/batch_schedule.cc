#include "core/batch_schedule.h"

#include <algorithm>
#include <numeric>

namespace bnmlp {

BatchSchedule::BatchSchedule(int64_t num_samples, int64_t batch_size)
    : num_samples_(num_samples),
      batch_size_(std::min(batch_size, num_samples)) {
  num_batches_ = (num_samples_ + batch_size_ - 1) / batch_size_;
  // A trailing batch of one sample joins the batch before it.
  if (num_batches_ > 1 && num_samples_ % batch_size_ == 1) --num_batches_;
}

int64_t BatchSchedule::end(int64_t i) const {
  return i + 1 == num_batches_ ? num_samples_ : (i + 1) * batch_size_;
}

int64_t BatchSchedule::largest_batch() const {
  return end(num_batches_ - 1) - begin(num_batches_ - 1) > batch_size_
             ? batch_size_ + 1
             : batch_size_;
}

Shuffler::Shuffler(int64_t num_samples, uint64_t seed)
    : rng_(seed), order_(num_samples) {
  std::iota(order_.begin(), order_.end(), int64_t{0});
}

const std::vector<int64_t>& Shuffler::NextEpoch() {
  // Fisher-Yates with a rejection-free 64-bit draw reduced by modulo: the
  // bias for n < 2^32 is below 2^-32, and the sequence depends only on
  // mt19937_64, which the standard fixes.
  for (int64_t i = static_cast<int64_t>(order_.size()) - 1; i > 0; --i) {
    const int64_t j =
        static_cast<int64_t>(rng_() % static_cast<uint64_t>(i + 1));
    std::swap(order_[i], order_[j]);
  }
  return order_;
}

}  // namespace bnmlp
