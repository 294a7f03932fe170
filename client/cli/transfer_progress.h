// Progress of a model file moving to or from the server (bnmlp export and
// import), for people: a bar redrawn in place on a terminal for files of a
// MiB or more, nothing otherwise (small files, logs, pipes).
#ifndef BNMLP_CLIENT_CLI_TRANSFER_PROGRESS_H_
#define BNMLP_CLIENT_CLI_TRANSFER_PROGRESS_H_

#include <cstdint>
#include <ostream>
#include <string>

#include "absl/strings/string_view.h"

namespace bnmlp::cli {

// "exporting m.onnx [=======>     ] 12.0/45.5 MiB", cut to width - 1
// columns; the bar is empty while the total is unknown (0).
std::string FormatTransferBar(absl::string_view what, int64_t done,
                              int64_t total, int width);

// Draws FormatTransferBar in place on `out` when `terminal`, once the
// transfer is known to be at least 1 MiB; Finish ends the line it drew.
// Not thread-safe; `out` must outlive it.
class TransferProgress {
 public:
  TransferProgress(std::ostream* out, bool terminal, std::string what,
                   int width);
  void Update(int64_t done, int64_t total);
  void Finish();

 private:
  std::ostream* out_;
  const bool terminal_;
  const std::string what_;
  const int width_;
  bool drawn_ = false;
};

}  // namespace bnmlp::cli

#endif  // BNMLP_CLIENT_CLI_TRANSFER_PROGRESS_H_
