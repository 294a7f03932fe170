#include "core/trainer.h"

#include <cmath>
#include <limits>
#include <vector>

#include "core/evaluate.h"
#include "core/inference_model.h"
#include "core/model_config.h"
#include "core/training_pass.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/core/test_data.h"
#include "tests/core/validated_train.h"

namespace bnmlp {
namespace {

using ::bnmlp::testing::ValidateAndTrain;
using ::testing::HasSubstr;

ModelConfig BlobConfig(
    Normalization normalization = Normalization::kPreActivation) {
  ModelConfig c;
  c.layer_sizes = {10, 32, 16, 4};
  c.normalization = normalization;
  c.seed = 42;
  return c;
}

TrainOptions Options(int epochs = 5) {
  TrainOptions o;
  o.epochs = epochs;
  o.batch_size = 32;
  o.optimizer.learning_rate = 0.05;
  o.shuffle_seed = 3;
  o.progress_interval_seconds = 0;
  return o;
}

TEST(TrainerTest, GaussianBlobsTrainToHighAccuracy) {
  const testing::Blobs train = testing::MakeBlobs(2000, 10, 4, 1, 2.0f);
  const testing::Blobs test = testing::MakeBlobs(1000, 10, 4, 1, 2.0f);
  for (Normalization n :
       {Normalization::kPreActivation, Normalization::kPostActivation,
        Normalization::kNone}) {
    for (OptimizerKind kind : {OptimizerKind::kSgd, OptimizerKind::kAdam}) {
      Model<float> model = *Model<float>::Create(BlobConfig(n));
      TrainOptions o = Options();
      o.optimizer.kind = kind;
      if (kind == OptimizerKind::kAdam) o.optimizer.learning_rate = 0.003;
      const Dataset<float> val = test.View();
      absl::StatusOr<TrainingProgress> last =
          ValidateAndTrain(&model, train.View(), &val, o);
      ASSERT_TRUE(last.ok()) << last.status();
      EXPECT_GE(last->validation_accuracy, 0.95)
          << NormalizationName(n) << " " << static_cast<int>(kind);
      // The reported validation figure is what Evaluate says afterwards.
      absl::StatusOr<Evaluation> eval = Evaluate(model, val);
      ASSERT_TRUE(eval.ok());
      EXPECT_DOUBLE_EQ(eval->accuracy, last->validation_accuracy);
    }
  }
}

void ExpectSameParameters(const Model<float>& a, const Model<float>& b) {
  for (int l = 0; l < a.num_layers(); ++l) {
    EXPECT_EQ(a.layer(l).weight, b.layer(l).weight) << "layer " << l;
    EXPECT_EQ(a.layer(l).bias, b.layer(l).bias) << "layer " << l;
    EXPECT_EQ(a.layer(l).gamma, b.layer(l).gamma) << "layer " << l;
    EXPECT_EQ(a.layer(l).beta, b.layer(l).beta) << "layer " << l;
    EXPECT_EQ(a.layer(l).running_mean, b.layer(l).running_mean);
    EXPECT_EQ(a.layer(l).running_var, b.layer(l).running_var);
  }
}

// 2 epochs, then 2 more resumed from the epoch-end checkpoint, equal one
// 4-epoch run bit for bit: optimizer buffers, step count and the shuffle
// sequence all continue.
TEST(TrainerTest, ResumeFromCheckpointEqualsOneLongRun) {
  const testing::Blobs train = testing::MakeBlobs(300, 10, 4, 2);
  for (OptimizerKind kind : {OptimizerKind::kSgd, OptimizerKind::kAdam}) {
    TrainOptions o = Options(4);
    o.optimizer.kind = kind;
    Model<float> straight = *Model<float>::Create(BlobConfig());
    ASSERT_TRUE(ValidateAndTrain(&straight, train.View(), nullptr, o).ok());

    o.epochs = 2;
    Model<float> split = *Model<float>::Create(BlobConfig());
    TrainingCheckpoint<float> checkpoint;
    TrainCallbacks<float> callbacks;
    int checkpoints = 0;
    callbacks.on_epoch_checkpoint = [&](const TrainingCheckpoint<float>& c) {
      checkpoint = c;
      ++checkpoints;
    };
    const TrainingInputs<float> inputs =
        *ValidateTrainInputs(split.config(), train.View(), nullptr, o);
    ASSERT_TRUE(Train(&split, inputs, callbacks).ok());
    EXPECT_EQ(checkpoints, 2);
    EXPECT_EQ(checkpoint.epochs_completed, 2);
    EXPECT_EQ(checkpoint.optimizer.steps, 2 * 10);  // 10 batches of <= 32
    ASSERT_TRUE(Train(&split, inputs, callbacks, &checkpoint).ok());
    EXPECT_EQ(checkpoint.epochs_completed, 4);
    ExpectSameParameters(split, straight);
  }
}

TEST(TrainerTest, ResumeRefusesAnotherOptimizerAndLeavesTheModel) {
  const testing::Blobs train = testing::MakeBlobs(100, 10, 4, 2);
  TrainOptions o = Options(1);
  Model<float> model = *Model<float>::Create(BlobConfig());
  TrainingCheckpoint<float> checkpoint;
  TrainCallbacks<float> callbacks;
  callbacks.on_epoch_checkpoint = [&](const TrainingCheckpoint<float>& c) {
    checkpoint = c;
  };
  const TrainingInputs<float> inputs =
      *ValidateTrainInputs(model.config(), train.View(), nullptr, o);
  ASSERT_TRUE(Train(&model, inputs, callbacks).ok());
  const Model<float> before = model;
  o.optimizer.kind = OptimizerKind::kAdam;
  const TrainingInputs<float> adam_inputs =
      *ValidateTrainInputs(model.config(), train.View(), nullptr, o);
  absl::StatusOr<TrainingProgress> refused =
      Train(&model, adam_inputs, {}, &checkpoint);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.status().message(), HasSubstr("SGD"));
  ExpectSameParameters(model, before);
}

TEST(TrainerTest, SameSeedsGiveBitIdenticalParameters) {
  const testing::Blobs train = testing::MakeBlobs(500, 10, 4, 2);
  auto run = [&](uint64_t shuffle_seed) {
    Model<float> model = *Model<float>::Create(BlobConfig());
    TrainOptions o = Options(3);
    o.shuffle_seed = shuffle_seed;
    EXPECT_TRUE(ValidateAndTrain(&model, train.View(), nullptr, o).ok());
    return model;
  };
  const Model<float> a = run(3), b = run(3), c = run(4);
  bool any_difference = false;
  for (int l = 0; l < a.num_layers(); ++l) {
    EXPECT_EQ(a.layer(l).weight, b.layer(l).weight);
    EXPECT_EQ(a.layer(l).beta, b.layer(l).beta);
    EXPECT_EQ(a.layer(l).running_var, b.layer(l).running_var);
    any_difference |= a.layer(l).weight != c.layer(l).weight;
  }
  EXPECT_TRUE(any_difference) << "another shuffle seed must change the result";
}

TEST(TrainerTest, ReportsProgressPerEpochAndWithinEpochs) {
  const testing::Blobs train = testing::MakeBlobs(320, 10, 4, 3);
  Model<float> model = *Model<float>::Create(BlobConfig());
  std::vector<TrainingProgress> seen;
  TrainCallbacks<float> callbacks;
  callbacks.on_progress = [&](const TrainingProgress& p, const Model<float>&) {
    seen.push_back(p);
    return true;
  };
  ASSERT_TRUE(
      ValidateAndTrain(&model, train.View(), nullptr, Options(2), callbacks)
          .ok());
  // 320 / 32 = 10 batches: 9 mid-epoch reports (interval 0) + 1 epoch end.
  ASSERT_EQ(seen.size(), 20u);
  EXPECT_EQ(seen[0].epoch, 1);
  EXPECT_EQ(seen[0].batch, 1);
  EXPECT_FALSE(seen[0].epoch_end);
  EXPECT_TRUE(seen[9].epoch_end);
  EXPECT_EQ(seen[9].batch, 10);
  EXPECT_EQ(seen[19].epoch, 2);
  EXPECT_EQ(seen[19].epochs, 2);
  EXPECT_EQ(seen[19].batches_per_epoch, 10);
  EXPECT_GT(seen[19].samples_per_second, 0);
  EXPECT_FALSE(seen[19].has_validation);
  EXPECT_LT(seen[19].loss, seen[0].loss);
}

TEST(TrainerTest, CallbacksCancelAndTheStatusSaysWhere) {
  const testing::Blobs train = testing::MakeBlobs(320, 10, 4, 3);
  Model<float> model = *Model<float>::Create(BlobConfig());
  TrainCallbacks<float> callbacks;
  int epochs_seen = 0;
  callbacks.on_progress = [&](const TrainingProgress& p, const Model<float>&) {
    epochs_seen += p.epoch_end;
    return !p.epoch_end;  // stop at the first epoch end
  };
  absl::StatusOr<TrainingProgress> r =
      ValidateAndTrain(&model, train.View(), nullptr, Options(5), callbacks);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(epochs_seen, 1);

  int polls = 0;
  TrainCallbacks<float> stop;
  stop.should_stop = [&] { return ++polls == 4; };
  r = ValidateAndTrain(&model, train.View(), nullptr, Options(5), stop);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kCancelled);
  EXPECT_THAT(r.status().message(), HasSubstr("epoch 1 at batch 4 of 10"));
}

TEST(TrainerTest, ValidateTrainInputsNamesTheBadOptionOrField) {
  const testing::Blobs train = testing::MakeBlobs(100, 10, 4, 3);
  const ModelConfig config = BlobConfig();
  struct Case {
    TrainOptions options;
    const char* message;
  };
  std::vector<Case> cases;
  cases.push_back({Options(0), "epochs must be in [1, 100000], got 0"});
  cases.push_back({Options(kMaxEpochs + 1), "epochs must be in"});
  TrainOptions batch = Options();
  batch.batch_size = 1;
  cases.push_back({batch, "batch_size must be at least 2"});
  TrainOptions lr = Options();
  lr.optimizer.learning_rate = 0;
  cases.push_back({lr, "learning_rate must be in (0, inf)"});
  TrainOptions momentum = Options();
  momentum.optimizer.momentum = 1;
  cases.push_back({momentum, "momentum must be in [0, 1)"});
  for (const Case& c : cases) {
    const absl::Status s =
        ValidateTrainInputs(config, train.View(), nullptr, c.options).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.message;
    EXPECT_THAT(s.message(), HasSubstr(c.message));
  }
  // One sample cannot be trained on (BatchNorm needs a batch variance).
  Dataset<float> one = train.View();
  new (&one.x) ConstMatrixMap<float>(train.x.data(), 10, 1);
  one.labels = one.labels.subspan(0, 1);
  const absl::Status s =
      ValidateTrainInputs(config, one, nullptr, Options()).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("at least 2"));
  // Every label is checked, once, here (the training pass does not).
  std::vector<int32_t> bad_labels = train.labels;
  bad_labels[57] = 4;
  Dataset<float> bad = train.View();
  bad.labels = bad_labels;
  EXPECT_THAT(
      ValidateTrainInputs(config, bad, nullptr, Options()).status().message(),
      HasSubstr("labels[57] = 4 is not a class index in [0, 4)"));
  // Validation data is checked under its own field names.
  bad_labels[57] = 0;
  bad_labels[5] = 4;
  Dataset<float> val = train.View();
  val.labels = bad_labels;
  EXPECT_THAT(ValidateTrainInputs(config, train.View(), &val, Options())
                  .status()
                  .message(),
              HasSubstr("validation_labels[5] = 4"));
}

TEST(TrainerTest, ValidatedInputsKeepTheOptionsAndAnEmptyValidationIsNone) {
  const testing::Blobs train = testing::MakeBlobs(100, 10, 4, 3);
  Dataset<float> empty = train.View();
  new (&empty.x) ConstMatrixMap<float>(train.x.data(), 10, 0);
  empty.labels = {};
  absl::StatusOr<TrainingInputs<float>> inputs =
      ValidateTrainInputs(BlobConfig(), train.View(), &empty, Options(7));
  ASSERT_TRUE(inputs.ok()) << inputs.status();
  EXPECT_EQ(inputs->options().epochs, 7);
  EXPECT_EQ(inputs->train().size(), 100);
  EXPECT_EQ(inputs->validation(), nullptr);
  const Dataset<float> val = train.View();
  absl::StatusOr<TrainingInputs<float>> with_validation =
      ValidateTrainInputs(BlobConfig(), train.View(), &val, Options());
  ASSERT_TRUE(with_validation.ok());
  ASSERT_NE(with_validation->validation(), nullptr);
  EXPECT_EQ(with_validation->validation()->size(), 100);
}

// Train trusts validated inputs, but only for models of the shape they were
// validated for: another input size, class count or task is refused in O(1)
// before the model is touched.
TEST(TrainerTest, TrainRefusesInputsValidatedForAnotherModelShape) {
  const testing::Blobs train = testing::MakeBlobs(100, 10, 4, 3);
  absl::StatusOr<TrainingInputs<float>> inputs =
      ValidateTrainInputs(BlobConfig(), train.View(), nullptr, Options());
  ASSERT_TRUE(inputs.ok());
  ModelConfig five_classes = BlobConfig();
  five_classes.layer_sizes.back() = 5;
  ModelConfig regression = BlobConfig();
  regression.task = Task::kRegression;
  for (const ModelConfig& config : {five_classes, regression}) {
    Model<float> model = *Model<float>::Create(config);
    const RowMajorMatrix<float> before = model.layer(0).weight;
    const absl::Status s = Train(&model, *inputs).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(s.message(), HasSubstr("validated for a model of another"));
    EXPECT_EQ(model.layer(0).weight, before);
  }
  ModelConfig wider = BlobConfig();  // hidden sizes may differ
  wider.layer_sizes = {10, 64, 4};
  Model<float> model = *Model<float>::Create(wider);
  EXPECT_TRUE(Train(&model, *inputs).ok());
}

TEST(TrainerTest, OptionDefaultsAreTheApis) {
  const TrainOptions o;
  EXPECT_EQ(o.epochs, api_defaults::kEpochs);
  EXPECT_EQ(o.batch_size, api_defaults::kBatchSize);
  EXPECT_EQ(o.batch_size, 32);
  EXPECT_EQ(o.shuffle_seed, api_defaults::kShuffleSeed);
  EXPECT_EQ(o.optimizer.learning_rate, api_defaults::kSgdLearningRate);
}

TEST(TrainerTest, ABatchSizeLargerThanTheSetTrainsOnTheWholeSet) {
  const testing::Blobs train = testing::MakeBlobs(50, 10, 4, 3);
  Model<float> model = *Model<float>::Create(BlobConfig());
  TrainOptions o = Options(1);
  o.batch_size = 1000;
  absl::StatusOr<TrainingProgress> r =
      ValidateAndTrain(&model, train.View(), nullptr, o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->batches_per_epoch, 1);
}

TEST(TrainerTest, RegressionLearnsALinearMap) {
  std::mt19937_64 rng(8);
  std::normal_distribution<float> normal;
  Matrix<float> x(3, 400), y(2, 400);
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = normal(rng);
  Matrix<float> a(2, 3);
  a << 1, -2, 0.5f, 0.3f, 0.7f, -1;
  y = a * x;
  ModelConfig c;
  c.layer_sizes = {3, 16, 2};
  c.task = Task::kRegression;
  Model<float> model = *Model<float>::Create(c);
  Dataset<float> d;
  new (&d.x) ConstMatrixMap<float>(x.data(), 3, 400);
  new (&d.targets) ConstMatrixMap<float>(y.data(), 2, 400);
  TrainOptions o = Options(40);
  o.optimizer.learning_rate = 0.02;
  const double before = Evaluate(model, d)->loss;
  ASSERT_TRUE(ValidateAndTrain(&model, d, nullptr, o).ok());
  EXPECT_LT(Evaluate(model, d)->loss, 0.05 * before);
}

}  // namespace
}  // namespace bnmlp

namespace bnmlp {
namespace {

TEST(TrainerTest, CosineScheduleAnnealsTheLearningRatePerStep) {
  const testing::Blobs train = testing::MakeBlobs(64, 10, 4, 5);
  const ModelConfig config = BlobConfig();
  TrainOptions o = Options(2);  // 2 epochs x 2 batches: t = 0, 1/4, 2/4, 3/4
  o.shuffle = false;
  o.schedule = LearningRateSchedule::kCosine;
  Model<float> trained = *Model<float>::Create(config);
  ASSERT_TRUE(ValidateAndTrain(&trained, train.View(), nullptr, o).ok());

  // The same steps by hand, with lr (1 + cos(pi t / 4)) / 2 at step t.
  Model<float> manual = *Model<float>::Create(config);
  TrainingPass<float> pass(config);
  Optimizer<float> optimizer(o.optimizer, manual);
  for (int step = 0; step < 4; ++step) {
    const int64_t begin = (step % 2) * 32;
    BatchTargets<float> targets;
    targets.labels = absl::MakeConstSpan(train.labels).subspan(begin, 32);
    ASSERT_TRUE(
        pass.Run(manual,
                 ConstMatrixMap<float>(train.x.col(begin).data(), 10, 32),
                 targets)
            .ok());
    pass.UpdateRunningStatistics(&manual);
    optimizer.set_learning_rate(o.optimizer.learning_rate * 0.5 *
                                (1 + std::cos(M_PI * step / 4)));
    optimizer.Step(pass.gradients(), &manual);
  }
  for (int l = 0; l < trained.num_layers(); ++l) {
    EXPECT_EQ(trained.layer(l).weight, manual.layer(l).weight) << l;
    EXPECT_EQ(trained.layer(l).running_mean, manual.layer(l).running_mean) << l;
  }
}

}  // namespace
}  // namespace bnmlp

namespace bnmlp {
namespace {

bool ModelIsFinite(const Model<float>& model) {
  for (const LayerParameters<float>& p : model.layers()) {
    if (!p.weight.allFinite() || !p.bias.allFinite() || !p.gamma.allFinite() ||
        !p.beta.allFinite() || !p.running_mean.allFinite() ||
        !p.running_var.allFinite()) {
      return false;
    }
  }
  return true;
}

// Divergence stops training where it happens, and no epoch end (what the
// server publishes) ever carries a non-finite value.
TEST(TrainerDivergenceTest, AHugeLearningRateStopsWithWhere) {
  const testing::Blobs train = testing::MakeBlobs(256, 10, 4, 1);
  for (Normalization n :
       {Normalization::kPreActivation, Normalization::kNone}) {
    Model<float> model = *Model<float>::Create(BlobConfig(n));
    TrainOptions o = Options(3);
    o.optimizer.learning_rate = 1e30;
    int epoch_ends = 0;
    bool all_finite = true;
    TrainCallbacks<float> callbacks;
    callbacks.on_progress = [&](const TrainingProgress& p,
                                const Model<float>& m) {
      if (p.epoch_end) {
        ++epoch_ends;
        all_finite &= ModelIsFinite(m);
      }
      return true;
    };
    absl::StatusOr<TrainingProgress> last =
        ValidateAndTrain(&model, train.View(), nullptr, o, callbacks);
    ASSERT_FALSE(last.ok()) << NormalizationName(n);
    EXPECT_EQ(last.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(last.status().message(),
                HasSubstr("training diverged in epoch 1 at batch "));
    EXPECT_THAT(last.status().message(), HasSubstr("of 8"));
    EXPECT_TRUE(all_finite);
    EXPECT_EQ(epoch_ends, 0);
  }
}

TEST(TrainerDivergenceTest, AWeightDecayThatOverflowsStops) {
  const testing::Blobs train = testing::MakeBlobs(256, 10, 4, 1);
  Model<float> model = *Model<float>::Create(BlobConfig());
  TrainOptions o = Options(3);
  o.optimizer.weight_decay = 1e30;
  absl::StatusOr<TrainingProgress> last =
      ValidateAndTrain(&model, train.View(), nullptr, o);
  ASSERT_FALSE(last.ok());
  EXPECT_THAT(last.status().message(), HasSubstr("training diverged in epoch"));
}

TEST(TrainerDivergenceTest, ParametersThatOverflowOnTheLastBatchAreCaught) {
  // One batch per epoch: the first update overflows the weights while the
  // loss it was computed from is finite, so only the epoch-end check sees
  // it.
  const testing::Blobs train = testing::MakeBlobs(64, 10, 4, 1);
  Model<float> model = *Model<float>::Create(BlobConfig(Normalization::kNone));
  TrainOptions o = Options(2);
  o.batch_size = 64;
  o.optimizer.learning_rate = 3e38;
  o.optimizer.momentum = 0;
  bool saw_epoch_end = false;
  TrainCallbacks<float> callbacks;
  callbacks.on_progress = [&](const TrainingProgress& p, const Model<float>&) {
    saw_epoch_end |= p.epoch_end;
    return true;
  };
  absl::StatusOr<TrainingProgress> last =
      ValidateAndTrain(&model, train.View(), nullptr, o, callbacks);
  ASSERT_FALSE(last.ok());
  EXPECT_THAT(last.status().message(),
              HasSubstr("training diverged in epoch 1 at batch 1 of 1: layer"));
  EXPECT_THAT(last.status().message(), HasSubstr("holds NaN or infinity"));
  EXPECT_FALSE(saw_epoch_end);
}

TEST(TrainingMemoryBytesTest, GrowsWithTheBatchAndCountsValidation) {
  ModelConfig c;
  c.layer_sizes = {10, 100, 3};
  const int64_t parameters = CountParameters(c.layer_sizes, c.normalization);
  const int64_t one = TrainingMemoryBytes(c, 1, false, sizeof(float));
  const int64_t two = TrainingMemoryBytes(c, 2, false, sizeof(float));
  // Per sample: 4 values per hidden unit, 2 per output, inputs and targets.
  EXPECT_EQ(two - one, (4 * 100 + 2 * 3 + 10 + 3) * 4);
  EXPECT_GE(one, 5 * parameters * 4);
  EXPECT_EQ(TrainingMemoryBytes(c, 1, true, sizeof(float)) - one,
            kDefaultMaxWorkspaceBytes);
  EXPECT_EQ(TrainingMemoryBytes(c, 2, false, sizeof(double)), 2 * two);
  c.layer_sizes = {1, int64_t{1} << 40, 2};
  EXPECT_EQ(TrainingMemoryBytes(c, int64_t{1} << 40, true, sizeof(float)),
            std::numeric_limits<int64_t>::max());
}

}  // namespace
}  // namespace bnmlp
