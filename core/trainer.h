// The training loop: epochs of shuffled mini-batches, optional validation,
// progress reporting and cancellation.
#ifndef BNMLP_CORE_TRAINER_H_
#define BNMLP_CORE_TRAINER_H_

#include <cstdint>
#include <functional>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/dataset.h"
#include "core/model.h"
#include "core/optimizer.h"

namespace bnmlp {

inline constexpr int kMaxEpochs = 100000;

// Lets Train(&model, data, nullptr, options) deduce T from the model alone.
template <typename T>
using NonDeduced = typename std::enable_if<true, T>::type;

enum class LearningRateSchedule {
  kConstant,  // optimizer.learning_rate throughout (torch.optim's default)
  // Cosine annealing from optimizer.learning_rate to 0 over every step of
  // the run (torch.optim.lr_scheduler.CosineAnnealingLR stepped per batch,
  // eta_min 0): lr_t = lr (1 + cos(pi t / T)) / 2 for step t of T.
  kCosine,
};

struct TrainOptions {
  int epochs = 1;            // 1 .. kMaxEpochs
  int64_t batch_size = 128;  // >= 2; >= N trains on the whole set at once
  OptimizerOptions optimizer;
  LearningRateSchedule schedule = LearningRateSchedule::kConstant;
  bool shuffle = true;
  uint64_t shuffle_seed = 0;
  // Per-batch progress is reported at most this often (epoch ends always
  // are); 0 reports every batch.
  double progress_interval_seconds = 0.5;
};

// INVALID_ARGUMENT naming the field (epochs, batch_size, learning_rate, ...)
// unless every option is in range.
absl::Status ValidateTrainOptions(const TrainOptions& options);

// Everything Train checks before it touches the model: the options, the
// training set (at least 2 samples: BatchNorm's batch variance is undefined
// for one) and the validation set (may be null), INVALID_ARGUMENT naming
// the field otherwise. Callers that must not start work on bad input (e.g.
// before claiming a model for training) call it first.
template <typename T>
absl::Status ValidateTrainInputs(const ModelConfig& config,
                                 const Dataset<T>& train,
                                 const NonDeduced<Dataset<T>>* validation,
                                 const TrainOptions& options);

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

template <typename T>
struct TrainCallbacks {
  // Called periodically within an epoch and at every epoch end, on the
  // training thread, with the model as it stands (at an epoch end: the state
  // worth publishing). Returning false cancels training. May be empty.
  std::function<bool(const TrainingProgress&, const Model<T>&)> on_progress;
  // Polled before every batch; returning true cancels. May be empty.
  std::function<bool()> should_stop;
};

// Trains `model` in place. `validation` may be null or empty. Inputs must
// satisfy ValidateDataset / ValidateTrainOptions (checked first; the model is
// untouched on INVALID_ARGUMENT). Returns the last epoch's progress on
// success; CANCELLED if a callback asked to stop, in which case the model
// holds the partial epoch's state (callers keep their own last snapshot).
// Same model, data, options and seed give bit-identical results.
template <typename T>
absl::StatusOr<TrainingProgress> Train(Model<T>* model, const Dataset<T>& train,
                                       const NonDeduced<Dataset<T>>* validation,
                                       const TrainOptions& options,
                                       const TrainCallbacks<T>& callbacks = {});

}  // namespace bnmlp

#endif  // BNMLP_CORE_TRAINER_H_
