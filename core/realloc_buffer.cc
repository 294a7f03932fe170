#include "core/realloc_buffer.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace bnmlp {

template <typename T>
absl::Status ReallocBuffer<T>::Reallocate(int64_t capacity) {
  constexpr int64_t kMaxCount =
      std::numeric_limits<int64_t>::max() / static_cast<int64_t>(sizeof(T));
  if (capacity < 0 || capacity > kMaxCount) {
    return absl::ResourceExhaustedError(
        absl::StrCat("a buffer of that many ", sizeof(T),
                     "-byte values would overflow the address space"));
  }
  const size_t bytes = static_cast<size_t>(capacity) * sizeof(T);
  // realloc(p, 0) may free p and return null; keep at least one value.
  void* grown = std::realloc(data_.get(), std::max<size_t>(bytes, sizeof(T)));
  if (grown == nullptr) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "out of memory: cannot grow a buffer to ", bytes, " bytes"));
  }
  // realloc consumed the old block: adopt the new one without freeing.
  (void)data_.release();
  data_.reset(static_cast<T*>(grown));
  capacity_ = capacity;
  return absl::OkStatus();
}

template <typename T>
absl::Status ReallocBuffer<T>::Reserve(int64_t capacity) {
  if (capacity <= capacity_) return absl::OkStatus();
  return Reallocate(capacity);
}

template <typename T>
absl::Status ReallocBuffer<T>::MakeRoom(int64_t count) {
  if (count <= capacity_ - size_) return absl::OkStatus();
  if (count > std::numeric_limits<int64_t>::max() - size_) {
    return Reallocate(-1);  // overflow: RESOURCE_EXHAUSTED
  }
  return Reallocate(std::max(size_ + count, capacity_ + capacity_ / 2));
}

template <typename T>
absl::Status ReallocBuffer<T>::Append(absl::Span<const T> values) {
  const auto count = static_cast<int64_t>(values.size());
  if (count == 0) return absl::OkStatus();
  BNMLP_RETURN_IF_ERROR(MakeRoom(count));
  std::memcpy(data_.get() + size_, values.data(),
              static_cast<size_t>(count) * sizeof(T));
  size_ += count;
  return absl::OkStatus();
}

template <typename T>
void ReallocBuffer<T>::ShrinkToFit() {
  if (capacity_ == size_ || size_ == 0) return;
  // A shrinking realloc does not fail in practice; if it did, the larger
  // block simply stays.
  (void)Reallocate(size_);
}

template class ReallocBuffer<float>;
template class ReallocBuffer<int32_t>;

}  // namespace bnmlp
