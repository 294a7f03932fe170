#include "core/trainer.h"

#include <chrono>
#include <cmath>
#include <numeric>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/batch_schedule.h"
#include "core/compute_pool.h"
#include "core/evaluate.h"
#include "core/training_pass.h"

namespace bnmlp {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Copies the samples of one batch, in shuffled order, into contiguous
// buffers sized once for the largest batch.
template <typename T>
class BatchGatherer {
 public:
  BatchGatherer(const Dataset<T>& data, int64_t capacity)
      : data_(data),
        x_(data.x.rows(), capacity),
        labels_(data.labels.empty() ? 0 : capacity),
        targets_(data.targets.rows(), data.targets.size() > 0 ? capacity : 0) {}

  // Samples order[begin, end) as a batch; valid until the next call.
  std::pair<ConstMatrixMap<T>, BatchTargets<T>> Gather(
      const std::vector<int64_t>& order, int64_t begin, int64_t end) {
    const int64_t size = end - begin;
    ComputePool& pool = ComputePool::Default();
    const int chunks = pool.threads();
    pool.ParallelFor(chunks, [&](int chunk) {
      for (int64_t k = size * chunk / chunks; k < size * (chunk + 1) / chunks;
           ++k) {
        const int64_t sample = order[begin + k];
        x_.col(k) = data_.x.col(sample);
        if (!labels_.empty()) labels_[k] = data_.labels[sample];
        if (targets_.size() > 0) targets_.col(k) = data_.targets.col(sample);
      }
    });
    const BatchTargets<T> targets{
        labels_.empty() ? absl::Span<const int32_t>()
                        : absl::MakeConstSpan(labels_.data(), size),
        ConstMatrixMap<T>(targets_.data(), targets_.rows(), size)};
    return {ConstMatrixMap<T>(x_.data(), x_.rows(), size), targets};
  }

 private:
  const Dataset<T>& data_;
  Matrix<T> x_;
  std::vector<int32_t> labels_;
  Matrix<T> targets_;
};

}  // namespace

absl::Status ValidateTrainOptions(const TrainOptions& options) {
  if (options.epochs < 1 || options.epochs > kMaxEpochs) {
    return absl::InvalidArgumentError(absl::StrCat(
        "epochs must be in [1, ", kMaxEpochs, "], got ", options.epochs));
  }
  if (options.batch_size < 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "batch_size must be at least 2 (BatchNorm's batch variance needs two "
        "samples), got ",
        options.batch_size));
  }
  if (!(options.progress_interval_seconds >= 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("progress_interval_seconds must be >= 0, got ",
                     options.progress_interval_seconds));
  }
  return ValidateOptimizerOptions(options.optimizer);
}

template <typename T>
absl::Status ValidateTrainInputs(const ModelConfig& config,
                                 const Dataset<T>& train,
                                 const NonDeduced<Dataset<T>>* validation,
                                 const TrainOptions& options) {
  if (absl::Status s = ValidateTrainOptions(options); !s.ok()) return s;
  if (absl::Status s = ValidateDataset(config, train); !s.ok()) return s;
  if (train.size() < 2) {
    return absl::InvalidArgumentError(
        "x has 1 sample; training needs at least 2 (BatchNorm's batch "
        "variance is undefined for one)");
  }
  if (validation != nullptr && !validation->empty()) {
    return ValidateDataset(config, *validation, "validation_");
  }
  return absl::OkStatus();
}

template <typename T>
absl::StatusOr<TrainingProgress> Train(Model<T>* model, const Dataset<T>& train,
                                       const NonDeduced<Dataset<T>>* validation,
                                       const TrainOptions& options,
                                       const TrainCallbacks<T>& callbacks) {
  const ModelConfig& config = model->config();
  if (absl::Status s = ValidateTrainInputs(config, train, validation, options);
      !s.ok()) {
    return s;
  }
  const bool has_validation = validation != nullptr && !validation->empty();
  const int64_t n = train.size();

  const BatchSchedule schedule(n, options.batch_size);
  TrainingPass<T> pass(config);
  Optimizer<T> optimizer(options.optimizer, *model);
  Shuffler shuffler(n, options.shuffle_seed);
  std::vector<int64_t> identity(n);
  std::iota(identity.begin(), identity.end(), int64_t{0});
  BatchGatherer<T> gatherer(train, schedule.largest_batch());
  const int64_t total_steps = schedule.num_batches() * options.epochs;

  TrainingProgress progress;
  progress.epochs = options.epochs;
  progress.batches_per_epoch = schedule.num_batches();
  progress.has_validation = has_validation;
  const Clock::time_point start = Clock::now();
  Clock::time_point last_report = start;
  auto report = [&]() {
    progress.elapsed_seconds = SecondsSince(start);
    last_report = Clock::now();
    return !callbacks.on_progress || callbacks.on_progress(progress, *model);
  };
  auto cancelled = [&]() {
    return absl::CancelledError(absl::StrCat(
        "training cancelled in epoch ", progress.epoch, " at batch ",
        progress.batch, " of ", progress.batches_per_epoch));
  };

  for (int epoch = 1; epoch <= options.epochs; ++epoch) {
    const std::vector<int64_t>& order =
        options.shuffle ? shuffler.NextEpoch() : identity;
    progress.epoch = epoch;
    progress.epoch_end = false;
    double loss_sum = 0;
    int64_t correct = 0, seen = 0;
    const Clock::time_point epoch_start = Clock::now();
    for (int64_t b = 0; b < schedule.num_batches(); ++b) {
      progress.batch = b + 1;
      if (callbacks.should_stop && callbacks.should_stop()) return cancelled();
      auto [x, targets] =
          gatherer.Gather(order, schedule.begin(b), schedule.end(b));
      absl::StatusOr<BatchResult> step = pass.Run(*model, x, targets);
      if (!step.ok()) return step.status();
      pass.UpdateRunningStatistics(model);
      if (options.schedule == LearningRateSchedule::kCosine) {
        const double t = static_cast<double>(optimizer.steps()) /
                         static_cast<double>(total_steps);
        optimizer.set_learning_rate(options.optimizer.learning_rate * 0.5 *
                                    (1 + std::cos(M_PI * t)));
      }
      optimizer.Step(pass.gradients(), model);

      loss_sum += step->loss * static_cast<double>(x.cols());
      correct += step->correct;
      seen += x.cols();
      progress.loss = loss_sum / static_cast<double>(seen);
      progress.accuracy = config.task == Task::kClassification
                              ? static_cast<double>(correct) / seen
                              : 0.0;
      progress.samples_per_second = seen / SecondsSince(epoch_start);
      const bool last = b + 1 == schedule.num_batches();
      if (!last &&
          SecondsSince(last_report) >= options.progress_interval_seconds &&
          !report()) {
        return cancelled();
      }
    }
    if (has_validation) {
      const Evaluation eval = EvaluateValidated(*model, *validation);
      progress.validation_loss = eval.loss;
      progress.validation_accuracy = eval.accuracy;
    }
    progress.epoch_end = true;
    if (!report()) return cancelled();
  }
  return progress;
}

template absl::Status ValidateTrainInputs<float>(const ModelConfig&,
                                                 const Dataset<float>&,
                                                 const Dataset<float>*,
                                                 const TrainOptions&);
template absl::Status ValidateTrainInputs<double>(const ModelConfig&,
                                                  const Dataset<double>&,
                                                  const Dataset<double>*,
                                                  const TrainOptions&);
template absl::StatusOr<TrainingProgress> Train<float>(
    Model<float>*, const Dataset<float>&, const Dataset<float>*,
    const TrainOptions&, const TrainCallbacks<float>&);
template absl::StatusOr<TrainingProgress> Train<double>(
    Model<double>*, const Dataset<double>&, const Dataset<double>*,
    const TrainOptions&, const TrainCallbacks<double>&);

}  // namespace bnmlp
