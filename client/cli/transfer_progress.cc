#include "client/cli/transfer_progress.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace bnmlp::cli {
namespace {

constexpr int64_t kMiB = int64_t{1} << 20;
constexpr int kBarWidth = 30;

}  // namespace

std::string FormatTransferBar(absl::string_view what, int64_t done,
                              int64_t total, int width) {
  std::string bar(kBarWidth, ' ');
  if (total > 0) {
    const int filled = static_cast<int>(
        std::min<int64_t>(kBarWidth, done * kBarWidth / total));
    std::fill(bar.begin(), bar.begin() + filled, '=');
    if (filled < kBarWidth && filled > 0) bar[filled - 1] = '>';
  }
  std::string line = absl::StrFormat(
      "%s [%s] %.1f/%s MiB", what, bar, static_cast<double>(done) / kMiB,
      total > 0 ? absl::StrFormat("%.1f", static_cast<double>(total) / kMiB)
                : std::string("?"));
  if (width > 1 && static_cast<int>(line.size()) > width - 1) {
    line.resize(static_cast<size_t>(width - 1));
  }
  return line;
}

TransferProgress::TransferProgress(std::ostream* out, bool terminal,
                                   std::string what, int width)
    : out_(out), terminal_(terminal), what_(std::move(what)), width_(width) {}

void TransferProgress::Update(int64_t done, int64_t total) {
  if (!terminal_ || std::max(done, total) < kMiB) return;
  *out_ << "\r" << FormatTransferBar(what_, done, total, width_) << "\x1b[K"
        << std::flush;
  drawn_ = true;
}

void TransferProgress::Finish() {
  if (drawn_) *out_ << "\n" << std::flush;
  drawn_ = false;
}

}  // namespace bnmlp::cli
