// The folded, chunked, allocation-free Predict against the unfolded
// reference (core/predict.h), for every normalization, activation and task.
#include "core/inference_model.h"

#include <cmath>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/loss.h"
#include "core/predict.h"
#include "core/training_pass.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bnmlp {
namespace {

using ::testing::HasSubstr;

// Large enough that the first layer's product on a 64-sample chunk is split
// over a 2-thread pool (256 x 64 x 64 multiply-adds >= kMinParallelMacs).
ModelConfig Config(Normalization n, Activation g, Task task) {
  ModelConfig c;
  c.layer_sizes = {64, 256, 32, task == Task::kClassification ? 5 : 3};
  c.normalization = n;
  c.activation = g;
  c.task = task;
  c.batch_norm_momentum = 0.5;  // running statistics close to the data's
  c.seed = 11;
  return c;
}

Matrix<float> RandomSamples(int64_t features, int64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.5f, 1.5f);
  Matrix<float> x(features, n);
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = normal(rng);
  return x;
}

// Generic gamma, beta and biases, and running statistics taken from data,
// so that every part of the fold matters.
Model<float> GenericModel(const ModelConfig& config) {
  Model<float> model = *Model<float>::Create(config);
  std::mt19937_64 rng(3);
  std::normal_distribution<float> normal;
  for (int l = 0; l < model.num_layers(); ++l) {
    LayerParameters<float>& p = model.mutable_layer(l);
    for (Vector<float>* v : {&p.bias, &p.beta}) {
      for (Eigen::Index i = 0; i < v->size(); ++i) (*v)(i) = 0.3f * normal(rng);
    }
    for (Eigen::Index i = 0; i < p.gamma.size(); ++i) {
      p.gamma(i) = 1 + 0.3f * normal(rng);
    }
  }
  TrainingPass<float> pass(config);
  const Matrix<float> x = RandomSamples(config.layer_sizes.front(), 200, 9);
  const std::vector<int32_t> labels(200, 0);
  const Matrix<float> targets =
      Matrix<float>::Zero(config.layer_sizes.back(), 200);
  BatchTargets<float> t;
  if (config.task == Task::kClassification) {
    t.labels = labels;
  } else {
    new (&t.targets) ConstMatrixMap<float>(targets.data(), targets.rows(), 200);
  }
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(
        pass.Run(model, ConstMatrixMap<float>(x.data(), x.rows(), 200), t)
            .ok());
    pass.UpdateRunningStatistics(&model);
  }
  return model;
}

Matrix<float> Reference(const Model<float>& model, const Matrix<float>& x) {
  Matrix<float> out(model.output_size(), x.cols());
  EXPECT_TRUE(Predict(model,
                      ConstMatrixMap<float>(x.data(), x.rows(), x.cols()),
                      MatrixMap<float>(out.data(), out.rows(), out.cols()))
                  .ok());
  return out;
}

// Folded Predict into an output buffer full of NaN: every entry must be
// overwritten.
Matrix<float> Folded(const InferenceModel<float>& model, const Matrix<float>& x,
                     PredictWorkspace<float>& workspace,
                     const PredictOptions& options = {}) {
  Matrix<float> out =
      Matrix<float>::Constant(model.output_size(), x.cols(), std::nanf(""));
  absl::StatusOr<PredictInput<float>> input = ValidatePredictInput(
      model, ConstMatrixMap<float>(x.data(), x.rows(), x.cols()));
  EXPECT_TRUE(input.ok()) << input.status();
  const absl::Status s = Predict(
      model, *input, MatrixMap<float>(out.data(), out.rows(), out.cols()),
      workspace, NeverStop, options);
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

using Combination = std::tuple<Normalization, Activation, Task>;
class FoldTest : public ::testing::TestWithParam<Combination> {};

TEST_P(FoldTest, FoldedMatchesTheUnfoldedReference) {
  const auto [n, g, task] = GetParam();
  const Model<float> model = GenericModel(Config(n, g, task));
  if (n != Normalization::kNone) {
    ASSERT_GT((model.layer(0).running_var.array() - 1).abs().maxCoeff(), 0.1);
  }
  ComputePool pool(2);
  const InferenceModel<float> folded =
      InferenceModel<float>::FromModel(model, pool);
  PredictWorkspace<float> workspace;
  PredictOptions chunked;
  chunked.max_chunk_rows = 64;  // 300 samples: 5 chunks, the last partial
  for (int64_t batch : {1, 7, 300}) {
    const Matrix<float> x = RandomSamples(64, batch, 100 + batch);
    const Matrix<float> reference = Reference(model, x);
    for (const PredictOptions& options : {PredictOptions(), chunked}) {
      const int64_t before = pool.parallel_for_calls();
      const Matrix<float> out = Folded(folded, x, workspace, options);
      const double diff = (out - reference).cwiseAbs().maxCoeff();
      EXPECT_LE(diff, 1e-5)
          << "batch " << batch << ", chunks of " << options.max_chunk_rows;
      EXPECT_FALSE(std::isnan(diff));
      if (batch == 300) {
        EXPECT_GT(pool.parallel_for_calls(), before);
      }
    }
  }
}

TEST_P(FoldTest, FoldedInDoubleIsExactToRounding) {
  const auto [n, g, task] = GetParam();
  const Model<double> model = GenericModel(Config(n, g, task)).Cast<double>();
  const InferenceModel<double> folded =
      InferenceModel<double>::FromModel(model);
  const Matrix<double> x = RandomSamples(64, 20, 4).cast<double>();
  Matrix<double> reference(model.output_size(), 20),
      out(model.output_size(), 20);
  ASSERT_TRUE(Predict(model, ConstMatrixMap<double>(x.data(), 64, 20),
                      MatrixMap<double>(reference.data(), reference.rows(), 20))
                  .ok());
  PredictWorkspace<double> workspace;
  ASSERT_TRUE(Predict(folded,
                      *ValidatePredictInput(
                          folded, ConstMatrixMap<double>(x.data(), 64, 20)),
                      MatrixMap<double>(out.data(), out.rows(), 20), workspace)
                  .ok());
  EXPECT_LE((out - reference).cwiseAbs().maxCoeff(), 1e-12);
}

INSTANTIATE_TEST_SUITE_P(
    AllCombinations, FoldTest,
    ::testing::Combine(
        ::testing::Values(Normalization::kPreActivation,
                          Normalization::kPostActivation, Normalization::kNone),
        ::testing::Values(Activation::kRelu, Activation::kTanh,
                          Activation::kSigmoid, Activation::kIdentity),
        ::testing::Values(Task::kClassification, Task::kRegression)),
    [](const ::testing::TestParamInfo<Combination>& info) {
      return absl::StrCat(NormalizationName(std::get<0>(info.param)), "_",
                          ActivationName(std::get<1>(info.param)), "_",
                          TaskName(std::get<2>(info.param)));
    });

// Evaluation mode is per sample: one sample alone, in any chunk of a batch,
// gets the answer its column gets in the whole batch.
TEST(InferenceModelTest, OneSampleEqualsItsColumnInABatch) {
  const Model<float> model =
      GenericModel(Config(Normalization::kPostActivation, Activation::kTanh,
                          Task::kClassification));
  ComputePool pool(2);
  const InferenceModel<float> folded =
      InferenceModel<float>::FromModel(model, pool);
  PredictWorkspace<float> workspace;
  const Matrix<float> x = RandomSamples(64, 300, 8);
  const Matrix<float> batch = Folded(folded, x, workspace);
  for (int64_t chunk : {1, 13, 64}) {
    PredictOptions options;
    options.max_chunk_rows = chunk;
    EXPECT_LE(
        (Folded(folded, x, workspace, options) - batch).cwiseAbs().maxCoeff(),
        1e-6)
        << "chunks of " << chunk;
  }
  for (int j : {0, 63, 64, 299}) {
    const Matrix<float> one = Folded(folded, x.col(j), workspace);
    EXPECT_LE((one.col(0) - batch.col(j)).cwiseAbs().maxCoeff(), 1e-6) << j;
  }
  EXPECT_GT((batch.col(0) - batch.col(1)).cwiseAbs().maxCoeff(), 1e-3f);
  EXPECT_TRUE(batch.colwise().sum().isOnes(1e-5f));  // probabilities
}

// A hand-made post-activation model: its BatchNorm moves into the next
// layer as W2' = W2 diag(s), b2' = W2 t + b2.
TEST(InferenceModelTest, PostActivationFoldsIntoTheNextLayer) {
  ModelConfig c;
  c.layer_sizes = {1, 2, 1};
  c.task = Task::kRegression;
  c.normalization = Normalization::kPostActivation;
  Model<double> m = *Model<double>::Create(c);
  LayerParameters<double>& h = m.mutable_layer(0);
  h.weight << 1, -1;
  h.bias << 0.5, 0.25;
  h.gamma << 2, 3;
  h.beta << 1, -1;
  h.running_mean << 1, 2;
  h.running_var << 4 - 1e-5, 9 - 1e-5;  // + eps 1e-5: sqrt of 4 and 9
  LayerParameters<double>& o = m.mutable_layer(1);
  o.weight << 10, 100;
  o.bias << 7;
  const InferenceModel<double> folded = InferenceModel<double>::FromModel(m);
  // s = gamma / sqrt(var + eps) = (1, 1); t = beta - mean s = (0, -3).
  EXPECT_TRUE(folded.weight(0).isApprox(h.weight));
  EXPECT_TRUE(folded.bias(0).isApprox(h.bias));
  EXPECT_NEAR(folded.weight(1)(0, 0), 10 * 1.0, 1e-9);
  EXPECT_NEAR(folded.weight(1)(0, 1), 100 * 1.0, 1e-9);
  EXPECT_NEAR(folded.bias(1)(0), 10 * 0 + 100 * -3 + 7, 1e-9);
  EXPECT_EQ(folded.activation(0), Activation::kRelu);
  EXPECT_EQ(folded.activation(1), Activation::kIdentity);
  EXPECT_EQ(folded.widest_hidden(), 2);
}

TEST(InferenceModelTest, PreActivationScalesTheRowsOfW) {
  ModelConfig c;
  c.layer_sizes = {2, 2, 2};
  Model<double> m = *Model<double>::Create(c);
  LayerParameters<double>& h = m.mutable_layer(0);
  h.weight << 1, 2, -1, 0.5;
  h.gamma << 2, 1;
  h.beta << 0.5, -1;
  h.running_mean << 1, 0;
  h.running_var << 4, 1;
  const InferenceModel<double> folded = InferenceModel<double>::FromModel(m);
  const double s0 = 2 / std::sqrt(4 + 1e-5), s1 = 1 / std::sqrt(1 + 1e-5);
  EXPECT_NEAR(folded.weight(0)(0, 1), 2 * s0, 1e-15);
  EXPECT_NEAR(folded.weight(0)(1, 0), -1 * s1, 1e-15);
  EXPECT_NEAR(folded.bias(0)(0), 0.5 - 1 * s0, 1e-15);
  EXPECT_NEAR(folded.bias(0)(1), -1, 1e-15);
}

TEST(InferenceModelTest, LogitsOptionSkipsOnlyTheSoftmax) {
  const Model<float> model = GenericModel(Config(
      Normalization::kPreActivation, Activation::kRelu, Task::kClassification));
  const InferenceModel<float> folded = InferenceModel<float>::FromModel(model);
  PredictWorkspace<float> workspace;
  const Matrix<float> x = RandomSamples(64, 10, 2);
  PredictOptions logits;
  logits.logits = true;
  Matrix<float> z = Folded(folded, x, workspace, logits);
  Softmax(MatrixMap<float>(z.data(), z.rows(), z.cols()));
  EXPECT_TRUE(z.isApprox(Folded(folded, x, workspace), 1e-6f));
}

TEST(InferenceModelTest, ShouldStopIsPolledBetweenLayersAndChunks) {
  const Model<float> model = GenericModel(Config(
      Normalization::kPreActivation, Activation::kRelu, Task::kRegression));
  const InferenceModel<float> folded = InferenceModel<float>::FromModel(model);
  PredictWorkspace<float> workspace;
  const Matrix<float> x = RandomSamples(64, 300, 2);
  const PredictInput<float> input =
      *ValidatePredictInput(folded, ConstMatrixMap<float>(x.data(), 64, 300));
  Matrix<float> out(3, 300);
  MatrixMap<float> map(out.data(), 3, 300);
  PredictOptions options;
  options.max_chunk_rows = 64;
  int polls = 0;
  auto count = [&] { return ++polls < 0; };
  ASSERT_TRUE(Predict(folded, input, map, workspace, count, options).ok());
  EXPECT_EQ(polls, 3 * 5);  // 3 layers x 5 chunks
  polls = 0;
  auto stop_at_7 = [&] { return ++polls == 7; };
  const absl::Status s =
      Predict(folded, input, map, workspace, stop_at_7, options);
  EXPECT_EQ(s.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(s.message(),
            "Predict stopped before layer 1 of 3 at sample 128 of 300");
  EXPECT_EQ(polls, 7);
}

TEST(InferenceModelTest, RejectsShapesThatDisagree) {
  ModelConfig small;
  small.layer_sizes = {4, 3, 2};
  const InferenceModel<float> four =
      InferenceModel<float>::FromModel(*Model<float>::Create(small));
  small.layer_sizes = {5, 3, 2};
  const InferenceModel<float> five =
      InferenceModel<float>::FromModel(*Model<float>::Create(small));
  const Matrix<float> x = Matrix<float>::Random(4, 3);
  const PredictInput<float> input =
      *ValidatePredictInput(four, ConstMatrixMap<float>(x.data(), 4, 3));
  Matrix<float> out(2, 3);
  PredictWorkspace<float> workspace;
  absl::Status s =
      Predict(five, input, MatrixMap<float>(out.data(), 2, 3), workspace);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(),
              HasSubstr("x has 4 features per sample; the model takes 5"));
  s = Predict(four, input, MatrixMap<float>(out.data(), 3, 2), workspace);
  EXPECT_THAT(s.message(), HasSubstr("outputs must be 2 x 3, got 3 x 2"));
  PredictOptions zero;
  zero.max_chunk_rows = 0;
  s = Predict(four, input, MatrixMap<float>(out.data(), 2, 3), workspace,
              NeverStop, zero);
  EXPECT_THAT(s.message(), HasSubstr("max_chunk_rows must be at least 1"));
}

// UsesComputePool is what Predict does: observed through the pool's
// ParallelFor count.
TEST(InferenceModelTest, UsesComputePoolIsWhetherPredictReachesThePool) {
  ModelConfig c;
  c.layer_sizes = {784, 256, 128, 10};
  const Model<float> model = *Model<float>::Create(c);
  ComputePool two(2), one(1);
  PredictWorkspace<float> workspace;
  for (ComputePool* pool : {&two, &one}) {
    const InferenceModel<float> folded =
        InferenceModel<float>::FromModel(model, *pool);
    for (int64_t n : {1, 4, 5, 6, 16, 256, 1000}) {
      for (int64_t chunk : {int64_t{4}, kDefaultMaxChunkRows}) {
        const Matrix<float> x = RandomSamples(784, n, n);
        PredictOptions options;
        options.max_chunk_rows = chunk;
        const int64_t before = pool->parallel_for_calls();
        Folded(folded, x, workspace, options);
        EXPECT_EQ(folded.UsesComputePool(n, chunk),
                  pool->parallel_for_calls() > before)
            << pool->threads() << " threads, " << n << " samples, chunks of "
            << chunk;
      }
    }
    // 256 x 784 x 6 = 1.2M multiply-adds in the first layer: the smallest
    // batch that is split (on two threads).
    EXPECT_EQ(folded.UsesComputePool(6), pool == &two);
    EXPECT_FALSE(folded.UsesComputePool(5));
    EXPECT_FALSE(folded.UsesComputePool(1));
    EXPECT_EQ(folded.UsesComputePool(256), pool == &two);
    EXPECT_FALSE(folded.UsesComputePool(256, 4));
  }
}

// One immutable inference model, many callers with their own workspaces:
// each gets the single-threaded answer, whether its products ran on the
// pool or inline (the pool busy with another caller's product).
TEST(InferenceModelTest, ConcurrentPredictsOnOneModelAgree) {
  const Model<float> model = GenericModel(Config(
      Normalization::kPreActivation, Activation::kRelu, Task::kClassification));
  ComputePool pool(2);
  const InferenceModel<float> folded =
      InferenceModel<float>::FromModel(model, pool);
  const Matrix<float> x = RandomSamples(64, 200, 6);
  PredictWorkspace<float> workspace;
  const Matrix<float> expected = Folded(folded, x, workspace);
  std::vector<Matrix<float>> results(4);
  std::vector<std::thread> callers;
  for (int t = 0; t < 4; ++t) {
    callers.emplace_back([&, t] {
      PredictWorkspace<float> own;
      for (int round = 0; round < 20; ++round)
        results[t] = Folded(folded, x, own);
    });
  }
  for (std::thread& t : callers) t.join();
  for (const Matrix<float>& r : results) {
    EXPECT_LE((r - expected).cwiseAbs().maxCoeff(), 1e-6);
  }
}

// A freshly initialized model of these layer sizes (every other setting the
// default), folded: for tests of the workspace's size only.
InferenceModel<float> DefaultFolded(std::vector<int64_t> layer_sizes) {
  ModelConfig c;
  c.layer_sizes = std::move(layer_sizes);
  return InferenceModel<float>::FromModel(*Model<float>::Create(c));
}

TEST(PredictWorkspaceTest, GrowsToTheLargestChunkAndNoFurther) {
  const InferenceModel<float> folded = DefaultFolded({8, 16, 4, 2});
  PredictWorkspace<float> workspace;
  PredictOptions options;
  options.max_chunk_rows = 32;
  Folded(folded, RandomSamples(8, 10, 1), workspace, options);
  EXPECT_EQ(workspace.allocated_values(), 2 * 16 * 10);
  Folded(folded, RandomSamples(8, 1000, 1), workspace, options);
  EXPECT_EQ(workspace.allocated_values(), 2 * 16 * 32);
  Folded(folded, RandomSamples(8, 3, 1), workspace, options);
  EXPECT_EQ(workspace.allocated_values(), 2 * 16 * 32);
}

TEST(PredictWorkspaceTest, TrimToFreesOnlyWhatIsBeyondTheBound) {
  const InferenceModel<float> folded = DefaultFolded({8, 16, 4, 2});
  PredictWorkspace<float> workspace;
  Folded(folded, RandomSamples(8, 10, 1), workspace, PredictOptions());
  const int64_t bytes = 2 * 16 * 10 * 4;
  workspace.TrimTo(bytes);  // exactly at the bound: kept
  EXPECT_EQ(workspace.allocated_values() * 4, bytes);
  workspace.TrimTo(bytes - 1);
  EXPECT_EQ(workspace.allocated_values(), 0);
  // Still usable: it grows again.
  Folded(folded, RandomSamples(8, 3, 1), workspace, PredictOptions());
  EXPECT_EQ(workspace.allocated_values(), 2 * 16 * 3);
}

TEST(PredictWorkspaceTest, ChunkRowsKeepTheWorkspaceWithinItsBound) {
  const InferenceModel<float> folded = DefaultFolded({8, 1000, 4, 2});
  EXPECT_EQ(folded.WorkspaceBytes(1), 2 * 1000 * 4);
  EXPECT_EQ(folded.ChunkRowsWithin(2 * 1000 * 4 * 3 + 7), 3);
  EXPECT_EQ(folded.ChunkRowsWithin(100), 1);  // not even one: one
  EXPECT_EQ(folded.ChunkRowsWithin(int64_t{1} << 40), kDefaultMaxChunkRows);
  PredictWorkspace<float> workspace;
  PredictOptions options;
  options.max_chunk_rows = folded.ChunkRowsWithin(2 * 1000 * 4 * 3);
  Folded(folded, RandomSamples(8, 100, 1), workspace, options);
  EXPECT_EQ(workspace.allocated_values() * 4, folded.WorkspaceBytes(3));
}

// Chunking bounds memory and changes an answer only by rounding. Not to the
// bit: OpenBLAS's GEMM takes other kernel paths for other column counts (so
// a sample's bits already depend on how many samples share its request).
TEST(PredictWorkspaceTest, ChunkedPredictAgreesWithWholeToRounding) {
  for (Task task : {Task::kClassification, Task::kRegression}) {
    const Model<float> model = GenericModel(
        Config(Normalization::kPreActivation, Activation::kRelu, task));
    ComputePool pool(2);
    const InferenceModel<float> folded =
        InferenceModel<float>::FromModel(model, pool);
    const Matrix<float> x = RandomSamples(64, 300, 9);
    PredictWorkspace<float> workspace;
    const Matrix<float> whole = Folded(folded, x, workspace, PredictOptions());
    for (int64_t chunk : {1, 3, 64, 299}) {
      PredictOptions options;
      options.max_chunk_rows = chunk;
      const Matrix<float> chunked = Folded(folded, x, workspace, options);
      const double scale = std::max(1.0f, whole.cwiseAbs().maxCoeff());
      EXPECT_LE((chunked - whole).cwiseAbs().maxCoeff(), 1e-5 * scale)
          << "chunks of " << chunk;
    }
  }
}

}  // namespace
}  // namespace bnmlp
