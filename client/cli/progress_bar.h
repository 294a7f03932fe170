// Renders the server's Train stream (TrainResponse events: `progress`
// within an epoch, `epoch_end` once per epoch, `done` last) for people: a
// progress bar redrawn in place on a terminal, one line per event otherwise
// (logs, pipes, CI), and a final summary.
#ifndef BNMLP_CLIENT_CLI_PROGRESS_BAR_H_
#define BNMLP_CLIENT_CLI_PROGRESS_BAR_H_

#include <optional>
#include <ostream>
#include <string>

#include "bnmlp/v1/bnmlp.pb.h"

namespace bnmlp::cli {

// Seconds left, extrapolated from elapsed_seconds and the fraction of all
// epochs x batches done; nullopt before anything is done.
std::optional<double> EstimateRemainingSeconds(
    const v1::TrainProgress& progress);

// "0:42", "12:05", "1:02:03".
std::string FormatDuration(double seconds);

// One terminal line for `progress`, an epoch end if `epoch_end` (else
// progress within the epoch), e.g.
//   epoch 3/10 [=====>    ] 234/469 loss 0.4123 acc 0.8530 ... ETA 1:23
// Accuracy is shown only for classification; validation figures at epoch
// ends with validation. Mid-epoch lines (redrawn in place) are cut to
// width - 1 columns so they never wrap; epoch ends are not cut.
std::string FormatProgressBar(const v1::TrainProgress& progress, bool epoch_end,
                              bool classification, int width);

// One self-contained log line with the same figures, e.g.
//   epoch 3/10 batch 234/469 loss 0.412300 accuracy 0.8530 ... eta 1:23
//   epoch 3/10 done loss 0.401200 ... version 4 elapsed 0:31
std::string FormatProgressLine(const v1::TrainProgress& progress,
                               bool epoch_end, bool classification);

// "trained 10 epochs in 1:23: version 11, loss ..., validation accuracy ..."
// for the `done` event's figures.
std::string FormatTrainingSummary(const v1::TrainProgress& summary,
                                  bool classification);

// Writes the events to `out`. In terminal mode it redraws one line in place
// ("\r" + line + erase-to-end-of-line) and ends the line at every
// `epoch_end`, so every epoch's result stays visible; otherwise it writes
// one line per `progress` or `epoch_end`. `done` (the caller prints the
// summary) and events this build does not know end a half-drawn line and
// print nothing. Not thread-safe; `out` must outlive the printer.
class ProgressPrinter {
 public:
  ProgressPrinter(std::ostream* out, bool terminal, bool classification,
                  int width);
  void Update(const v1::TrainResponse& event);
  // Ends a half-drawn terminal line (e.g. before an error message).
  void Interrupt();

 private:
  std::ostream* out_;
  const bool terminal_;
  const bool classification_;
  const int width_;
  bool line_open_ = false;
};

}  // namespace bnmlp::cli

#endif  // BNMLP_CLIENT_CLI_PROGRESS_BAR_H_
