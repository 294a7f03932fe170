// A growable array of trivially copyable values in one malloc'd block, grown
// with realloc: for a large block glibc's realloc moves the mapping with
// mremap instead of copying, so growing a multi-GB dataset never needs the
// old and the new block at once (std::vector's growth would, for a moment:
// twice the data). What is reserved but not yet written is address space,
// not memory: pages count once written.
#ifndef BNMLP_CORE_REALLOC_BUFFER_H_
#define BNMLP_CORE_REALLOC_BUFFER_H_

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/types/span.h"

namespace bnmlp {

// Move-only; not thread-safe. Errors: RESOURCE_EXHAUSTED when the block
// cannot grow (malloc failed, or the size overflows), with the buffer
// unchanged.
template <typename T>
class ReallocBuffer {
  static_assert(std::is_trivially_copyable_v<T>,
                "realloc may move the values bytewise");

 public:
  ReallocBuffer() = default;
  ReallocBuffer(ReallocBuffer&&) noexcept = default;
  ReallocBuffer& operator=(ReallocBuffer&&) noexcept = default;

  int64_t size() const { return size_; }
  int64_t capacity() const { return capacity_; }
  const T* data() const { return data_.get(); }
  absl::Span<const T> span() const {
    return absl::MakeConstSpan(data_.get(), static_cast<size_t>(size_));
  }

  // Makes room for exactly `capacity` values (never shrinks).
  absl::Status Reserve(int64_t capacity);
  // Makes room for `count` more values: when the capacity is exhausted it
  // grows by half (at least to fit), so n appends cost O(log n) moves of
  // the mapping. After OK, appending that many cannot fail.
  absl::Status MakeRoom(int64_t count);
  // MakeRoom, then copies `values` to the end.
  absl::Status Append(absl::Span<const T> values);
  // Gives back the capacity beyond size() (a shrinking realloc: no copy for
  // a large block).
  void ShrinkToFit();

 private:
  struct Free {
    void operator()(T* p) const { std::free(p); }
  };
  absl::Status Reallocate(int64_t capacity);

  std::unique_ptr<T, Free> data_;
  int64_t size_ = 0;
  int64_t capacity_ = 0;
};

}  // namespace bnmlp

#endif  // BNMLP_CORE_REALLOC_BUFFER_H_
