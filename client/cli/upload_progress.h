// Progress of a dataset upload (bnmlp upload, and bnmlp train sending local
// files), for people: FormatTransferBar's bar and MiB, plus rows, MB/s and
// the time left, redrawn in place on a terminal; on a pipe one line at the
// end only (logs stay short).
#ifndef BNMLP_CLIENT_CLI_UPLOAD_PROGRESS_H_
#define BNMLP_CLIENT_CLI_UPLOAD_PROGRESS_H_

#include <cstdint>
#include <ostream>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace bnmlp::cli {

// "uploading fmnist [=====>     ] 45.0/179.7 MiB 15000/60000 rows 52.3 MB/s
// ETA 3s", cut to width - 1 columns. The rate and ETA are left out until
// some time has passed.
std::string FormatUploadLine(absl::string_view what, int64_t rows_done,
                             int64_t rows_total, int64_t bytes_done,
                             int64_t bytes_total, absl::Duration elapsed,
                             int width);

// Not thread-safe; `out` must outlive it.
class UploadProgress {
 public:
  UploadProgress(std::ostream* out, bool terminal, std::string what,
                 int64_t bytes_per_row, int width);
  void Update(int64_t rows_done, int64_t rows_total);
  // Ends the line (terminal) or prints the final one (pipe), once.
  void Finish();

 private:
  std::string Line() const;

  std::ostream* out_;
  const bool terminal_;
  const std::string what_;
  const int64_t bytes_per_row_;
  const int width_;
  const absl::Time start_;
  int64_t rows_done_ = 0;
  int64_t rows_total_ = 0;
  absl::Time last_drawn_ = absl::InfinitePast();
  bool finished_ = false;
};

}  // namespace bnmlp::cli

#endif  // BNMLP_CLIENT_CLI_UPLOAD_PROGRESS_H_
