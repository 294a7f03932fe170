#include "core/trainer.h"

#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "core/batch_schedule.h"
#include "core/compute_pool.h"
#include "core/evaluate.h"
#include "core/finite.h"
#include "core/inference_model.h"
#include "core/layer_layout.h"
#include "core/training_pass.h"

namespace bnmlp {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Copies the samples of one batch, in shuffled order, into contiguous
// buffers sized once for the largest batch, spread over `pool`.
template <typename T>
class BatchGatherer {
 public:
  BatchGatherer(const Dataset<T>& data, int64_t capacity, ComputePool& pool)
      : data_(data),
        pool_(pool),
        x_(data.x.rows(), capacity),
        labels_(data.labels.empty() ? 0 : capacity),
        targets_(data.targets.rows(), data.targets.size() > 0 ? capacity : 0) {}

  // Samples order[begin, end) as a batch; valid until the next call.
  std::pair<ConstMatrixMap<T>, BatchTargets<T>> Gather(
      const std::vector<int64_t>& order, int64_t begin, int64_t end) {
    const int64_t size = end - begin;
    const int chunks = pool_.threads();
    pool_.ParallelFor(chunks, [&](int chunk) {
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
  ComputePool& pool_;
  Matrix<T> x_;
  std::vector<int32_t> labels_;
  Matrix<T> targets_;
};

// Whether every entry of `v` is finite, in one vectorized pass.
template <typename Derived>
bool AllFinite(const Eigen::DenseBase<Derived>& v) {
  return v.size() == 0 ||
         FirstNonFinite<typename Derived::Scalar>(
             ConstMatrixMap<typename Derived::Scalar>(
                 v.derived().data(), v.size(), 1)) == std::nullopt;
}

// "layer 2's weight" for the first parameter or running statistic of
// `model` holding NaN or infinity; "" if all are finite. One pass over the
// parameters: run only where a version is about to be published.
template <typename T>
std::string FirstNonFiniteParameter(const Model<T>& model) {
  for (int l = 0; l < model.num_layers(); ++l) {
    const LayerParameters<T>& p = model.layers()[l];
    const std::pair<const char*, bool> checks[] = {
        {"weight", AllFinite(p.weight)},
        {"bias", AllFinite(p.bias)},
        {"gamma", AllFinite(p.gamma)},
        {"beta", AllFinite(p.beta)},
        {"running_mean", AllFinite(p.running_mean)},
        {"running_var", AllFinite(p.running_var)},
    };
    for (const auto& [name, finite] : checks) {
      if (!finite) return absl::StrCat("layer ", l + 1, "'s ", name);
    }
  }
  return "";
}

// The advice every divergence message ends with.
constexpr absl::string_view kDivergenceAdvice =
    " (lower the learning_rate or weight_decay, or scale the inputs)";

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

namespace {

template <typename T>
absl::Status CheckTrainingSetSize(const Dataset<T>& train) {
  if (train.size() >= 2) return absl::OkStatus();
  return absl::InvalidArgumentError(
      "x has 1 sample; training needs at least 2 (BatchNorm's batch "
      "variance is undefined for one)");
}

}  // namespace

template <typename T>
absl::StatusOr<TrainingInputs<T>> ValidateTrainInputs(
    const ModelConfig& config, const Dataset<T>& train,
    const NonDeduced<Dataset<T>>* validation, const TrainOptions& options) {
  BNMLP_RETURN_IF_ERROR(ValidateTrainOptions(options));
  BNMLP_ASSIGN_OR_RETURN(ValidatedDataset<T> validated_train,
                         ValidateDataset(config, train));
  BNMLP_RETURN_IF_ERROR(CheckTrainingSetSize(train));
  std::optional<ValidatedDataset<T>> validated_validation;
  if (validation != nullptr && !validation->empty()) {
    BNMLP_ASSIGN_OR_RETURN(ValidatedDataset<T> v,
                           ValidateDataset(config, *validation, "validation_"));
    validated_validation.emplace(std::move(v));
  }
  return TrainingInputs<T>(std::move(validated_train),
                           std::move(validated_validation), options);
}

template <typename T>
absl::StatusOr<TrainingInputs<T>> ValidateTrainInputs(
    const ModelConfig& config, const ValidatedDataset<T>& train,
    const NonDeduced<ValidatedDataset<T>>* validation,
    const TrainOptions& options) {
  BNMLP_RETURN_IF_ERROR(ValidateTrainOptions(options));
  if (!train.Fits(config) ||
      (validation != nullptr && !validation->Fits(config))) {
    return absl::InvalidArgumentError(
        "the datasets were validated for a model of another shape or task");
  }
  BNMLP_RETURN_IF_ERROR(CheckTrainingSetSize(train.data()));
  std::optional<ValidatedDataset<T>> validated_validation;
  if (validation != nullptr) validated_validation.emplace(*validation);
  return TrainingInputs<T>(train, std::move(validated_validation), options);
}

template <typename T>
absl::StatusOr<TrainingProgress> Train(Model<T>* model,
                                       const TrainingInputs<T>& inputs,
                                       const TrainCallbacks<T>& callbacks,
                                       const TrainingCheckpoint<T>* resume) {
  const ModelConfig& config = model->config();
  if (!inputs.train().Fits(config)) {
    return absl::InvalidArgumentError(
        "the training inputs were validated for a model of another shape or "
        "task");
  }
  const Dataset<T>& train = inputs.train().data();
  const ValidatedDataset<T>* validation = inputs.validation();
  const TrainOptions& options = inputs.options();
  const bool has_validation = validation != nullptr;
  const int64_t n = train.size();

  ComputePool& pool = ComputePool::Default();
  const BatchSchedule schedule(n, options.batch_size);
  TrainingPass<T> pass(config, pool);
  Optimizer<T> optimizer(options.optimizer, *model, pool);
  Shuffler shuffler(n, options.shuffle_seed);
  int64_t epochs_before = 0;
  if (resume != nullptr) {
    BNMLP_RETURN_IF_ERROR(optimizer.RestoreState(resume->optimizer));
    if (resume->epochs_completed < 0) {
      return absl::InvalidArgumentError(
          "resume: epochs_completed must be >= 0");
    }
    epochs_before = resume->epochs_completed;
    // The shuffle sequence continues where the resumed run left it.
    if (options.shuffle) {
      for (int64_t e = 0; e < epochs_before; ++e) shuffler.NextEpoch();
    }
  }
  std::vector<int64_t> identity(n);
  std::iota(identity.begin(), identity.end(), int64_t{0});
  BatchGatherer<T> gatherer(train, schedule.largest_batch(), pool);
  PredictWorkspace<T> validation_workspace;
  const int64_t total_steps =
      optimizer.steps() + schedule.num_batches() * options.epochs;

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
      BNMLP_ASSIGN_OR_RETURN(const BatchResult step,
                             pass.Run(*model, x, targets));
      // One comparison per batch: a non-finite loss means the parameters
      // (or the data's scale) already overflowed; nothing after it is worth
      // keeping, and the model is not published.
      if (!std::isfinite(step.loss)) {
        return absl::InvalidArgumentError(
            absl::StrCat("training diverged in epoch ", epoch, " at batch ",
                         b + 1, " of ", schedule.num_batches(),
                         ": the loss is ", step.loss, kDivergenceAdvice));
      }
      pass.UpdateRunningStatistics(model);
      if (options.schedule == LearningRateSchedule::kCosine) {
        const double t = static_cast<double>(optimizer.steps()) /
                         static_cast<double>(total_steps);
        optimizer.set_learning_rate(options.optimizer.learning_rate * 0.5 *
                                    (1 + std::cos(M_PI * t)));
      }
      optimizer.Step(pass.gradients(), model);

      loss_sum += step.loss * static_cast<double>(x.cols());
      correct += step.correct;
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
    // The last batch's update could still have overflowed: an epoch end is
    // published, so its parameters are checked first.
    if (const std::string bad = FirstNonFiniteParameter(*model); !bad.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("training diverged in epoch ", epoch, " at batch ",
                       schedule.num_batches(), " of ", schedule.num_batches(),
                       ": ", bad, " holds NaN or infinity", kDivergenceAdvice));
    }
    if (has_validation) {
      // Folded once per epoch end; the data was validated once, up front.
      BNMLP_ASSIGN_OR_RETURN(
          const Evaluation eval,
          Evaluate(InferenceModel<T>::FromModel(*model, pool), *validation,
                   validation_workspace));
      progress.validation_loss = eval.loss;
      progress.validation_accuracy = eval.accuracy;
    }
    progress.epoch_end = true;
    if (callbacks.on_epoch_checkpoint) {
      TrainingCheckpoint<T> checkpoint;
      checkpoint.optimizer = optimizer.ExportState();
      checkpoint.epochs_completed = epochs_before + epoch;
      callbacks.on_epoch_checkpoint(checkpoint);
    }
    if (!report()) return cancelled();
  }
  return progress;
}

#define BNMLP_INSTANTIATE(T)                                         \
  template absl::StatusOr<TrainingInputs<T>> ValidateTrainInputs<T>( \
      const ModelConfig&, const Dataset<T>&, const Dataset<T>*,      \
      const TrainOptions&);                                          \
  template absl::StatusOr<TrainingInputs<T>> ValidateTrainInputs<T>( \
      const ModelConfig&, const ValidatedDataset<T>&,                \
      const ValidatedDataset<T>*, const TrainOptions&);              \
  template absl::StatusOr<TrainingProgress> Train<T>(                \
      Model<T>*, const TrainingInputs<T>&, const TrainCallbacks<T>&, \
      const TrainingCheckpoint<T>*);
BNMLP_INSTANTIATE(float)
BNMLP_INSTANTIATE(double)
#undef BNMLP_INSTANTIATE

int64_t TrainingMemoryBytes(const ModelConfig& config, int64_t batch_size,
                            bool validation, int64_t value_bytes) {
  // In long double: a bound, so it may round up but must not overflow.
  long double values_per_sample = 0;
  const int layers = static_cast<int>(config.layer_sizes.size()) - 1;
  for (int l = 0; l < layers; ++l) {
    const LayerLayout layout = LayoutOf(config, l);
    values_per_sample += (layout.output_layer ? 2.0L : 4.0L) * layout.outputs;
  }
  values_per_sample += config.layer_sizes.front() + config.layer_sizes.back();
  const long double parameters =
      CountParameters(config.layer_sizes, config.normalization);
  // Gradients, two optimizer buffers, two copies of the model, and a
  // layer's weight in double while a published version is folded.
  const long double values =
      values_per_sample * static_cast<long double>(batch_size) +
      7.0L * parameters;
  const long double bytes =
      values * value_bytes + (validation ? kDefaultMaxWorkspaceBytes : 0);
  if (bytes >= static_cast<long double>(std::numeric_limits<int64_t>::max())) {
    return std::numeric_limits<int64_t>::max();
  }
  return static_cast<int64_t>(std::ceil(bytes));
}

}  // namespace bnmlp
