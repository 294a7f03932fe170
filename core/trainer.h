// The training loop: epochs of shuffled mini-batches, optional validation,
// progress reporting and cancellation.
#ifndef BNMLP_CORE_TRAINER_H_
#define BNMLP_CORE_TRAINER_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/api_defaults.h"
#include "core/dataset.h"
#include "core/model.h"
#include "core/optimizer.h"

namespace bnmlp {

inline constexpr int kMaxEpochs = 100000;

// Lets ValidateTrainInputs(config, data, nullptr, options) deduce T from the
// training set alone.
template <typename T>
using NonDeduced = typename std::enable_if<true, T>::type;

enum class LearningRateSchedule {
  kConstant,  // optimizer.learning_rate throughout (torch.optim's default)
  // Cosine annealing from optimizer.learning_rate to 0 over every step of
  // the run (torch.optim.lr_scheduler.CosineAnnealingLR stepped per batch,
  // eta_min 0): lr_t = lr (1 + cos(pi t / T)) / 2 for step t of T.
  kCosine,
};

// Defaults are the API's (common/api_defaults.h).
struct TrainOptions {
  int epochs = api_defaults::kEpochs;  // 1 .. kMaxEpochs
  // >= 2; >= N trains on the whole set at once.
  int64_t batch_size = api_defaults::kBatchSize;
  OptimizerOptions optimizer;
  LearningRateSchedule schedule = LearningRateSchedule::kConstant;
  bool shuffle = true;
  uint64_t shuffle_seed = api_defaults::kShuffleSeed;
  // Per-batch progress is reported at most this often (epoch ends always
  // are); 0 reports every batch.
  double progress_interval_seconds = 0.5;
};

// INVALID_ARGUMENT naming the field (epochs, batch_size, learning_rate, ...)
// unless every option is in range.
absl::Status ValidateTrainOptions(const TrainOptions& options);

template <typename T>
class TrainingInputs;

// Everything about a training request that can be wrong, checked once: the
// options, the training set (at least 2 samples: BatchNorm's batch variance
// is undefined for one) and the validation set (may be null or empty), in
// one pass over the data. INVALID_ARGUMENT naming the field (epochs,
// batch_size, learning_rate, x, labels, validation_x, ...) otherwise. The
// result is what Train accepts; it views the datasets' memory, which must
// outlive it. Callers that must not start work on bad input (e.g. before
// claiming a model for training) call it first and nothing else.
template <typename T>
absl::StatusOr<TrainingInputs<T>> ValidateTrainInputs(
    const ModelConfig& config, const Dataset<T>& train,
    const NonDeduced<Dataset<T>>* validation, const TrainOptions& options);

// The same for datasets validated beforehand (ValidateDataset, or
// StoredDataset::FitTo for an uploaded one, which checked its values when
// they arrived): checks the options, that both sets were validated for
// models shaped like `config`, and that the training set has at least 2
// samples, all in O(1): no pass over the data. `validation` may be null.
template <typename T>
absl::StatusOr<TrainingInputs<T>> ValidateTrainInputs(
    const ModelConfig& config, const ValidatedDataset<T>& train,
    const NonDeduced<ValidatedDataset<T>>* validation,
    const TrainOptions& options);

// The inputs of a training run, validated by ValidateTrainInputs (the only
// way to make one): Train and the engine below it never check their values
// again. Views, like ValidatedDataset: copyable, not assignable.
template <typename T>
class TrainingInputs {
 public:
  const ValidatedDataset<T>& train() const { return train_; }
  // Null when there is no validation set (none given, or empty).
  const ValidatedDataset<T>* validation() const {
    return validation_.has_value() ? &*validation_ : nullptr;
  }
  const TrainOptions& options() const { return options_; }

 private:
  template <typename U>
  friend absl::StatusOr<TrainingInputs<U>> ValidateTrainInputs(
      const ModelConfig&, const Dataset<U>&, const NonDeduced<Dataset<U>>*,
      const TrainOptions&);
  template <typename U>
  friend absl::StatusOr<TrainingInputs<U>> ValidateTrainInputs(
      const ModelConfig&, const ValidatedDataset<U>&,
      const NonDeduced<ValidatedDataset<U>>*, const TrainOptions&);

  TrainingInputs(ValidatedDataset<T> train,
                 std::optional<ValidatedDataset<T>> validation,
                 const TrainOptions& options)
      : train_(std::move(train)),
        validation_(std::move(validation)),
        options_(options) {}

  ValidatedDataset<T> train_;
  std::optional<ValidatedDataset<T>> validation_;
  TrainOptions options_;
};

struct TrainingProgress {
  int epoch = 0;  // 1-based
  int epochs = 0;
  int64_t batch = 0;  // 1-based within the epoch
  int64_t batches_per_epoch = 0;
  double loss = 0;      // mean over the epoch's batches so far
  double accuracy = 0;  // over the epoch's samples so far; 0 for regression
  bool has_validation = false;
  double validation_loss = 0;  // at epoch ends, when has_validation
  double validation_accuracy = 0;
  double samples_per_second = 0;  // over the epoch so far
  double elapsed_seconds = 0;     // since Train started
  bool epoch_end = false;
};

// Where a run stands at an epoch end, with everything a later run needs to
// continue exactly (Train's `resume`): the optimizer's buffers and step
// count (the learning-rate schedule's position), and how many epochs of the
// seeded shuffle sequence were consumed.
template <typename T>
struct TrainingCheckpoint {
  OptimizerState<T> optimizer;
  // Epochs completed by this run and the runs it resumed.
  int64_t epochs_completed = 0;
};

template <typename T>
struct TrainCallbacks {
  // Called periodically within an epoch and at every epoch end, on the
  // training thread, with the model as it stands (at an epoch end: the state
  // worth publishing). Returning false cancels training. May be empty.
  std::function<bool(const TrainingProgress&, const Model<T>&)> on_progress;
  // Polled before every batch; returning true cancels. May be empty.
  std::function<bool()> should_stop;
  // Called at every epoch end just before on_progress, with the state that
  // goes with the model on_progress receives. May be empty (then no state
  // is copied).
  std::function<void(const TrainingCheckpoint<T>&)> on_epoch_checkpoint;
};

// Trains `model` in place on inputs that ValidateTrainInputs accepted for
// a model of the same shape: the same input and output sizes and task
// (checked in O(1); INVALID_ARGUMENT, with the model untouched, if not).
// Nothing else is checked again. Returns the last epoch's progress on
// success; CANCELLED if a callback asked to stop, in which case the model
// holds the partial epoch's state (callers keep their own last snapshot).
// Divergence: INVALID_ARGUMENT "training diverged in epoch E at batch B of
// N: ..." as soon as a batch's loss is NaN or infinite, or an epoch's last
// update left a parameter or running statistic non-finite (checked before
// on_progress sees the epoch end), so on_progress never receives a model
// with a non-finite value at an epoch end. The model is then unusable.
// Same model, data, options and seed give bit-identical results. Products
// run on ComputePool::Default() as it is when Train starts.
//
// `resume` (may be null: a fresh optimizer) continues a run that ended at
// an epoch end with `model` as it was then: the optimizer starts from the
// saved buffers and step count, the shuffle sequence skips the epochs
// already consumed, and a cosine schedule anneals over the saved steps plus
// this run's. With the constant schedule, E epochs and then E' more with
// resume give the same bits as one run of E + E' epochs with the same data
// and seeds. INVALID_ARGUMENT (model untouched) if the state does not fit
// the model or the optimizer kind differs.
template <typename T>
absl::StatusOr<TrainingProgress> Train(
    Model<T>* model, const TrainingInputs<T>& inputs,
    const TrainCallbacks<T>& callbacks = {},
    const TrainingCheckpoint<T>* resume = nullptr);

// An upper bound on the bytes a training run of a `config` model in batches
// of `batch_size` samples (the effective one: at most the training set's
// size) holds beyond its data, with `value_bytes` per value (sizeof(T)):
// the batch's activations, caches and gradients (at most 4 values per
// hidden unit and sample, 2 per output, the gathered batch's inputs and
// targets), the parameter gradients, two optimizer buffers (Adam's; SGD's
// momentum needs one), two more copies of the model (the run's working copy
// and the version it publishes, or its folded form), one layer's weight in
// double while a version is folded (2 values a parameter) and, with
// `validation`, Predict's bounded workspace (kDefaultMaxWorkspaceBytes).
// Saturates at INT64_MAX. Callers admit a run against a memory budget with
// it before anything is allocated.
int64_t TrainingMemoryBytes(const ModelConfig& config, int64_t batch_size,
                            bool validation, int64_t value_bytes);

}  // namespace bnmlp

#endif  // BNMLP_CORE_TRAINER_H_
