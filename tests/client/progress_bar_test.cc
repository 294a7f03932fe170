#include "client/cli/progress_bar.h"

#include <sstream>
#include <string>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bnmlp::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// Epoch 2 of 4, batch 50 of 100, 30 s in: 150 of 400 batches done.
v1::TrainProgress MidEpoch() {
  v1::TrainProgress p;
  p.set_epoch(2);
  p.set_epochs(4);
  p.set_batch(50);
  p.set_batches_per_epoch(100);
  p.set_loss(0.43219);
  p.set_accuracy(0.8512);
  p.set_samples_per_second(15234.4);
  p.set_elapsed_seconds(30);
  p.set_has_validation(true);
  p.set_version(2);
  return p;
}

// The figures of epoch 2's end (sent as an `epoch_end` event).
v1::TrainProgress EpochEnd() {
  v1::TrainProgress p = MidEpoch();
  p.set_batch(100);
  p.set_validation_loss(0.4);
  p.set_validation_accuracy(0.8612);
  p.set_version(3);
  return p;
}

v1::TrainResponse ProgressEvent(const v1::TrainProgress& p) {
  v1::TrainResponse event;
  *event.mutable_progress() = p;
  return event;
}

v1::TrainResponse EpochEndEvent(const v1::TrainProgress& p) {
  v1::TrainResponse event;
  *event.mutable_epoch_end() = p;
  return event;
}

v1::TrainResponse DoneEvent(const v1::TrainProgress& p) {
  v1::TrainResponse event;
  *event.mutable_done() = p;
  return event;
}

TEST(ProgressBarTest, EstimatesRemainingTimeFromTheShareDone) {
  EXPECT_DOUBLE_EQ(*EstimateRemainingSeconds(MidEpoch()), 30.0 * 250 / 150);
  v1::TrainProgress start = MidEpoch();
  start.set_epoch(1);
  start.set_batch(0);
  EXPECT_FALSE(EstimateRemainingSeconds(start).has_value());
  EXPECT_FALSE(EstimateRemainingSeconds(v1::TrainProgress()).has_value());
}

TEST(ProgressBarTest, FormatsDurations) {
  EXPECT_EQ(FormatDuration(0), "0:00");
  EXPECT_EQ(FormatDuration(42.4), "0:42");
  EXPECT_EQ(FormatDuration(725), "12:05");
  EXPECT_EQ(FormatDuration(3723), "1:02:03");
  EXPECT_EQ(FormatDuration(-5), "0:00");
}

TEST(ProgressBarTest, BarShowsEpochBatchFiguresAndEta) {
  const std::string bar = FormatProgressBar(MidEpoch(), false, true, 120);
  EXPECT_THAT(bar, StartsWith("epoch 2/4 ["));
  EXPECT_THAT(
      bar,
      HasSubstr("] 50/100 loss 0.4322 acc 0.8512 15234 samples/s ETA 0:50"));
  // Validation figures exist only at an epoch's end, even when the
  // progress message carries has_validation.
  EXPECT_THAT(bar, Not(HasSubstr("val_")));
  EXPECT_LE(bar.size(), 120u);
  // Half an epoch: the bar is half full.
  const size_t open = bar.find('['), close = bar.find(']');
  const std::string inside = bar.substr(open + 1, close - open - 1);
  EXPECT_EQ(std::count(inside.begin(), inside.end(), '='),
            static_cast<long>(inside.size() / 2));
}

TEST(ProgressBarTest, RedrawnLinesNeverWrapNarrowTerminals) {
  for (int width : {20, 60, 80}) {
    EXPECT_LT(FormatProgressBar(MidEpoch(), false, true, width).size(),
              static_cast<size_t>(width));
  }
  // Epoch ends end with a newline: wrapping is harmless, figures stay.
  EXPECT_THAT(FormatProgressBar(EpochEnd(), true, true, 40),
              HasSubstr("val_acc"));
}

TEST(ProgressBarTest, RegressionHasNoAccuracy) {
  EXPECT_THAT(FormatProgressBar(MidEpoch(), false, false, 120),
              Not(HasSubstr("acc")));
  EXPECT_THAT(FormatProgressLine(MidEpoch(), false, false),
              Not(HasSubstr("acc")));
}

TEST(ProgressBarTest, EpochEndShowsValidationAndElapsed) {
  const std::string bar = FormatProgressBar(EpochEnd(), true, true, 120);
  EXPECT_THAT(
      bar, HasSubstr("[" + std::string(bar.find(']') - bar.find('[') - 1, '=') +
                     "]"));
  EXPECT_THAT(bar, HasSubstr("val_loss 0.4000 val_acc 0.8612"));
  EXPECT_THAT(bar, HasSubstr("0:30 elapsed"));
}

TEST(ProgressBarTest, LogLinesAreSelfContained) {
  EXPECT_EQ(FormatProgressLine(MidEpoch(), false, true),
            "epoch 2/4 batch 50/100 loss 0.432190 accuracy 0.8512 "
            "samples/s 15234 eta 0:50");
  EXPECT_EQ(FormatProgressLine(EpochEnd(), true, true),
            "epoch 2/4 done loss 0.432190 accuracy 0.8512 validation_loss "
            "0.400000 validation_accuracy 0.8612 samples/s 15234 version 3 "
            "elapsed 0:30");
}

TEST(ProgressBarTest, SummaryNamesVersionAndValidationAccuracy) {
  EXPECT_EQ(FormatTrainingSummary(EpochEnd(), true),
            "trained 4 epochs in 0:30: version 3, loss 0.4322, accuracy "
            "0.8512, validation loss 0.4000, validation accuracy 0.8612, "
            "15234 samples/s");
  v1::TrainProgress one_epoch = EpochEnd();
  one_epoch.set_epochs(1);
  EXPECT_THAT(FormatTrainingSummary(one_epoch, true),
              StartsWith("trained 1 epoch in 0:30: "));
}

TEST(ProgressPrinterTest, PlainModeWritesOneLinePerUpdate) {
  std::ostringstream out;
  ProgressPrinter printer(&out, /*terminal=*/false, true, 80);
  printer.Update(ProgressEvent(MidEpoch()));
  printer.Update(EpochEndEvent(EpochEnd()));
  // The summary is the caller's to print; an event a newer server sends
  // and this build does not know is skipped.
  printer.Update(DoneEvent(EpochEnd()));
  printer.Update(v1::TrainResponse());
  const std::vector<std::string> lines = absl::StrSplit(out.str(), '\n');
  ASSERT_EQ(lines.size(), 3u);  // Two lines and the empty rest.
  EXPECT_EQ(lines[0], FormatProgressLine(MidEpoch(), false, true));
  EXPECT_EQ(lines[1], FormatProgressLine(EpochEnd(), true, true));
  EXPECT_EQ(out.str().find('\r'), std::string::npos);
}

TEST(ProgressPrinterTest, DoneEndsAHalfDrawnTerminalLine) {
  std::ostringstream out;
  ProgressPrinter printer(&out, /*terminal=*/true, true, 100);
  printer.Update(ProgressEvent(MidEpoch()));
  printer.Update(DoneEvent(EpochEnd()));
  EXPECT_EQ(out.str(), "\r" + FormatProgressBar(MidEpoch(), false, true, 100) +
                           "\x1b[K\n");
}

TEST(ProgressPrinterTest, TerminalModeRedrawsInPlaceAndKeepsEpochResults) {
  std::ostringstream out;
  ProgressPrinter printer(&out, /*terminal=*/true, true, 100);
  printer.Update(ProgressEvent(MidEpoch()));
  printer.Update(ProgressEvent(MidEpoch()));
  printer.Update(EpochEndEvent(EpochEnd()));
  printer.Update(ProgressEvent(MidEpoch()));
  printer.Interrupt();
  const std::string redraw =
      "\r" + FormatProgressBar(MidEpoch(), false, true, 100) + "\x1b[K";
  EXPECT_EQ(out.str(), redraw + redraw + "\r" +
                           FormatProgressBar(EpochEnd(), true, true, 100) +
                           "\x1b[K\n" + redraw + "\n");
}

}  // namespace
}  // namespace bnmlp::cli
