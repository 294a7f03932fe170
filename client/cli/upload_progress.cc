#include "client/cli/upload_progress.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "client/cli/transfer_progress.h"

namespace bnmlp::cli {
namespace {

// Below this the rate is noise.
constexpr absl::Duration kRateAfter = absl::Milliseconds(200);
// Terminal redraws at most this often.
constexpr absl::Duration kRedrawEvery = absl::Milliseconds(100);

std::string FormatEta(double seconds) {
  const auto s = static_cast<int64_t>(seconds + 0.5);
  if (s < 60) return absl::StrCat(s, "s");
  if (s < 3600) return absl::StrFormat("%dm%02ds", s / 60, s % 60);
  return absl::StrFormat("%dh%02dm", s / 3600, s % 3600 / 60);
}

}  // namespace

std::string FormatUploadLine(absl::string_view what, int64_t rows_done,
                             int64_t rows_total, int64_t bytes_done,
                             int64_t bytes_total, absl::Duration elapsed,
                             int width) {
  std::string line =
      absl::StrCat(FormatTransferBar(what, bytes_done, bytes_total, 0), " ",
                   rows_done, "/", rows_total, " rows");
  if (elapsed >= kRateAfter && bytes_done > 0) {
    const double seconds = absl::ToDoubleSeconds(elapsed);
    const double rate = static_cast<double>(bytes_done) / seconds;
    absl::StrAppendFormat(&line, " %.1f MB/s", rate / 1e6);
    if (bytes_done < bytes_total) {
      absl::StrAppend(
          &line, " ETA ",
          FormatEta(static_cast<double>(bytes_total - bytes_done) / rate));
    } else {
      absl::StrAppendFormat(&line, " in %.1f s", seconds);
    }
  }
  if (width > 1 && static_cast<int>(line.size()) > width - 1) {
    line.resize(static_cast<size_t>(width - 1));
  }
  return line;
}

UploadProgress::UploadProgress(std::ostream* out, bool terminal,
                               std::string what, int64_t bytes_per_row,
                               int width)
    : out_(out),
      terminal_(terminal),
      what_(std::move(what)),
      bytes_per_row_(bytes_per_row),
      width_(width),
      start_(absl::Now()) {}

std::string UploadProgress::Line() const {
  return FormatUploadLine(what_, rows_done_, rows_total_,
                          rows_done_ * bytes_per_row_,
                          rows_total_ * bytes_per_row_, absl::Now() - start_,
                          terminal_ ? width_ : 0);
}

void UploadProgress::Update(int64_t rows_done, int64_t rows_total) {
  rows_done_ = rows_done;
  rows_total_ = rows_total;
  const absl::Time now = absl::Now();
  if (!terminal_ || now - last_drawn_ < kRedrawEvery) return;
  last_drawn_ = now;
  *out_ << "\r" << Line() << "\x1b[K" << std::flush;
}

void UploadProgress::Finish() {
  if (finished_) return;
  finished_ = true;
  if (terminal_) {
    *out_ << "\r" << Line() << "\x1b[K\n" << std::flush;
  } else if (rows_done_ > 0) {
    *out_ << Line() << "\n" << std::flush;
  }
}

}  // namespace bnmlp::cli
