#include "client/cli/progress_bar.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace bnmlp::cli {
namespace {

constexpr int kMinBarWidth = 5;
constexpr int kMaxBarWidth = 40;

int64_t BatchesDone(const v1::TrainProgress& progress) {
  const int64_t batch =
      std::min<int64_t>(progress.batch(), progress.batches_per_epoch());
  return int64_t{std::max(progress.epoch() - 1, 0)} *
             progress.batches_per_epoch() +
         batch;
}

// Validation figures exist only at epoch ends (and in the final summary).
bool ShowsValidation(const v1::TrainProgress& progress, bool epoch_end) {
  return epoch_end && progress.has_validation();
}

// " loss 0.4123 acc 0.8530 val_loss 0.4012 val_acc 0.8612 15234 samples/s"
std::string CompactFigures(const v1::TrainProgress& progress, bool epoch_end,
                           bool classification) {
  std::string figures = absl::StrFormat(" loss %.4f", progress.loss());
  if (classification) {
    absl::StrAppend(&figures,
                    absl::StrFormat(" acc %.4f", progress.accuracy()));
  }
  if (ShowsValidation(progress, epoch_end)) {
    absl::StrAppend(&figures, absl::StrFormat(" val_loss %.4f",
                                              progress.validation_loss()));
    if (classification) {
      absl::StrAppend(
          &figures,
          absl::StrFormat(" val_acc %.4f", progress.validation_accuracy()));
    }
  }
  absl::StrAppend(&figures, absl::StrFormat(" %.0f samples/s",
                                            progress.samples_per_second()));
  return figures;
}

std::string TimeFigure(const v1::TrainProgress& progress, bool epoch_end) {
  if (epoch_end) {
    return absl::StrCat(" ", FormatDuration(progress.elapsed_seconds()),
                        " elapsed");
  }
  const std::optional<double> remaining = EstimateRemainingSeconds(progress);
  return remaining.has_value()
             ? absl::StrCat(" ETA ", FormatDuration(*remaining))
             : std::string(" ETA --");
}

}  // namespace

std::optional<double> EstimateRemainingSeconds(
    const v1::TrainProgress& progress) {
  const int64_t total =
      int64_t{progress.epochs()} * progress.batches_per_epoch();
  const int64_t done = BatchesDone(progress);
  if (total <= 0 || done <= 0 || progress.elapsed_seconds() <= 0) {
    return std::nullopt;
  }
  if (done >= total) return 0.0;
  return progress.elapsed_seconds() * static_cast<double>(total - done) /
         static_cast<double>(done);
}

std::string FormatDuration(double seconds) {
  const int64_t total = std::max<int64_t>(0, std::llround(seconds));
  const int64_t hours = total / 3600;
  const int64_t minutes = (total / 60) % 60;
  const int64_t secs = total % 60;
  if (hours > 0) return absl::StrFormat("%d:%02d:%02d", hours, minutes, secs);
  return absl::StrFormat("%d:%02d", minutes, secs);
}

std::string FormatProgressBar(const v1::TrainProgress& progress, bool epoch_end,
                              bool classification, int width) {
  const std::string epoch =
      absl::StrFormat("epoch %d/%d ", progress.epoch(), progress.epochs());
  const std::string batches = absl::StrFormat(
      " %d/%d", std::min(progress.batch(), progress.batches_per_epoch()),
      progress.batches_per_epoch());
  const std::string rest = CompactFigures(progress, epoch_end, classification) +
                           TimeFigure(progress, epoch_end);
  const int text_width =
      static_cast<int>(epoch.size() + batches.size() + rest.size()) + 2;
  const int bar_width =
      std::clamp(width - 1 - text_width, kMinBarWidth, kMaxBarWidth);
  const double fraction =
      progress.batches_per_epoch() > 0
          ? std::clamp(static_cast<double>(progress.batch()) /
                           progress.batches_per_epoch(),
                       0.0, 1.0)
          : 0.0;
  const int filled = static_cast<int>(std::lround(fraction * bar_width));
  std::string bar(filled, '=');
  if (filled < bar_width) {
    bar += '>';
    bar.append(bar_width - filled - 1, ' ');
  }
  std::string line = absl::StrCat(epoch, "[", bar, "]", batches, rest);
  // A line that wraps cannot be redrawn with "\r"; epoch ends are followed
  // by a newline, so they may wrap and keep every figure.
  const bool redrawn = !epoch_end;
  if (redrawn && width > 1 && static_cast<int>(line.size()) >= width) {
    line.resize(width - 1);
  }
  return line;
}

std::string FormatProgressLine(const v1::TrainProgress& progress,
                               bool epoch_end, bool classification) {
  std::string line =
      absl::StrFormat("epoch %d/%d", progress.epoch(), progress.epochs());
  if (epoch_end) {
    absl::StrAppend(&line, " done");
  } else {
    absl::StrAppend(&line, absl::StrFormat(" batch %d/%d", progress.batch(),
                                           progress.batches_per_epoch()));
  }
  absl::StrAppend(&line, absl::StrFormat(" loss %.6f", progress.loss()));
  if (classification) {
    absl::StrAppend(&line,
                    absl::StrFormat(" accuracy %.4f", progress.accuracy()));
  }
  if (ShowsValidation(progress, epoch_end)) {
    absl::StrAppend(&line, absl::StrFormat(" validation_loss %.6f",
                                           progress.validation_loss()));
    if (classification) {
      absl::StrAppend(&line, absl::StrFormat(" validation_accuracy %.4f",
                                             progress.validation_accuracy()));
    }
  }
  absl::StrAppend(
      &line, absl::StrFormat(" samples/s %.0f", progress.samples_per_second()));
  if (epoch_end) {
    absl::StrAppend(&line, " version ", progress.version(), " elapsed ",
                    FormatDuration(progress.elapsed_seconds()));
  } else if (auto remaining = EstimateRemainingSeconds(progress)) {
    absl::StrAppend(&line, " eta ", FormatDuration(*remaining));
  }
  return line;
}

std::string FormatTrainingSummary(const v1::TrainProgress& summary,
                                  bool classification) {
  std::string text = absl::StrFormat(
      "trained %d %s in %s: version %d, loss %.4f", summary.epochs(),
      summary.epochs() == 1 ? "epoch" : "epochs",
      FormatDuration(summary.elapsed_seconds()), summary.version(),
      summary.loss());
  if (classification) {
    absl::StrAppend(&text,
                    absl::StrFormat(", accuracy %.4f", summary.accuracy()));
  }
  if (summary.has_validation()) {
    absl::StrAppend(&text, absl::StrFormat(", validation loss %.4f",
                                           summary.validation_loss()));
    if (classification) {
      absl::StrAppend(&text, absl::StrFormat(", validation accuracy %.4f",
                                             summary.validation_accuracy()));
    }
  }
  absl::StrAppend(
      &text, absl::StrFormat(", %.0f samples/s", summary.samples_per_second()));
  return text;
}

ProgressPrinter::ProgressPrinter(std::ostream* out, bool terminal,
                                 bool classification, int width)
    : out_(out),
      terminal_(terminal),
      classification_(classification),
      width_(width) {}

void ProgressPrinter::Update(const v1::TrainResponse& event) {
  const bool epoch_end = event.has_epoch_end();
  if (!epoch_end && !event.has_progress()) {
    // `done`: the caller prints the final summary. An event a newer server
    // added: nothing to show, but the stream goes on.
    Interrupt();
    return;
  }
  const v1::TrainProgress& progress =
      epoch_end ? event.epoch_end() : event.progress();
  if (!terminal_) {
    *out_ << FormatProgressLine(progress, epoch_end, classification_) << "\n"
          << std::flush;
    return;
  }
  // "\x1b[K" erases what a longer previous line left behind.
  *out_ << "\r"
        << FormatProgressBar(progress, epoch_end, classification_, width_)
        << "\x1b[K";
  line_open_ = !epoch_end;
  if (epoch_end) *out_ << "\n";
  *out_ << std::flush;
}

void ProgressPrinter::Interrupt() {
  if (line_open_) *out_ << "\n" << std::flush;
  line_open_ = false;
}

}  // namespace bnmlp::cli
