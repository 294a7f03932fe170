// What the fuzz targets share: reading a fuzzer's input as a selector byte
// and a stream of length-prefixed messages, and handing it to code that
// reads files. Header-only; used only by fuzz/*.cc.
#ifndef BNMLP_FUZZ_FUZZ_INPUT_H_
#define BNMLP_FUZZ_FUZZ_INPUT_H_

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace bnmlp::fuzz {

// The fuzzer's bytes, consumed front to back. Not thread-safe.
class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size)
      : rest_(reinterpret_cast<const char*>(data), size) {}

  bool empty() const { return rest_.empty(); }
  absl::string_view rest() const { return rest_; }

  // The next byte (0 once the input is used up).
  uint8_t TakeByte() {
    if (rest_.empty()) return 0;
    const uint8_t byte = static_cast<uint8_t>(rest_.front());
    rest_.remove_prefix(1);
    return byte;
  }

  // The next message of a stream: a 2-byte little-endian length, then that
  // many bytes (fewer if the input ends first). False once nothing is left.
  bool TakeMessage(absl::string_view* message) {
    if (rest_.empty()) return false;
    size_t length = TakeByte();
    length |= static_cast<size_t>(TakeByte()) << 8;
    if (length > rest_.size()) length = rest_.size();
    *message = rest_.substr(0, length);
    rest_.remove_prefix(length);
    return true;
  }

 private:
  absl::string_view rest_;
};

// A file of this process that holds `bytes` (rewritten on every call), for
// the readers that take a path. `suffix` becomes part of its name (".gz"
// for a reader that looks at names). Aborts if it cannot be written: a
// fuzzer that silently tests nothing is worse than one that stops.
inline const std::string& WriteScratchFile(absl::string_view bytes,
                                           absl::string_view suffix = "") {
  static std::string path;
  const char* tmp = std::getenv("TMPDIR");
  path = absl::StrCat(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp",
                      "/bnmlp-fuzz-", getpid(), suffix);
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr ||
      std::fwrite(bytes.data(), 1, bytes.size(), file) != bytes.size() ||
      std::fclose(file) != 0) {
    std::perror(path.c_str());
    std::abort();
  }
  return path;
}

}  // namespace bnmlp::fuzz

#endif  // BNMLP_FUZZ_FUZZ_INPUT_H_
