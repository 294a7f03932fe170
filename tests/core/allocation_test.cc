// The steady-state training step and Predict perform no heap allocation: a
// counting malloc (interposed for the whole process, so Eigen's and
// OpenBLAS's allocations count too) sees none once the workspaces exist.
//
// Built only without sanitizers: ASan and TSan interpose malloc themselves.
#include <malloc.h>

#include <atomic>
#include <cstddef>
#include <cstdlib>

#include "core/compute_pool.h"
#include "core/inference_model.h"
#include "core/optimizer.h"
#include "core/trainer.h"
#include "core/training_pass.h"
#include "gtest/gtest.h"
#include "tests/core/test_data.h"
#include "tests/core/validated_train.h"

extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);
void __libc_free(void*);
}

namespace {
std::atomic<bool> counting{false};
std::atomic<long> allocations{0};

void Count() {
  if (counting.load(std::memory_order_relaxed)) {
    allocations.fetch_add(1, std::memory_order_relaxed);
  }
}
}  // namespace

extern "C" {
void* malloc(size_t size) {
  Count();
  return __libc_malloc(size);
}
void* calloc(size_t n, size_t size) {
  Count();
  return __libc_calloc(n, size);
}
void* realloc(void* p, size_t size) {
  Count();
  return __libc_realloc(p, size);
}
void* memalign(size_t alignment, size_t size) {
  Count();
  return __libc_memalign(alignment, size);
}
void* aligned_alloc(size_t alignment, size_t size) {
  Count();
  return __libc_memalign(alignment, size);
}
int posix_memalign(void** out, size_t alignment, size_t size) {
  Count();
  *out = __libc_memalign(alignment, size);
  return *out == nullptr ? ENOMEM : 0;
}
void free(void* p) { __libc_free(p); }
}

namespace bnmlp {
namespace {

class CountAllocations {
 public:
  CountAllocations() {
    allocations = 0;
    counting = true;
  }
  ~CountAllocations() { counting = false; }
  long count() const { return allocations.load(); }
};

TEST(AllocationTest, TheCounterSeesEigenAndStandardAllocations) {
  CountAllocations counter;
  Matrix<float> m(100, 100);
  std::vector<int> v(10);
  EXPECT_GE(counter.count(), 2);
}

class SteadyStateTest : public ::testing::TestWithParam<Normalization> {};

TEST_P(SteadyStateTest, TrainingStepsAllocateNothing) {
  ModelConfig config;
  config.layer_sizes = {784, 256, 128, 10};
  config.normalization = GetParam();
  Model<float> model = *Model<float>::Create(config);
  const testing::Blobs data = testing::MakeBlobs(256, 784, 10, 1);
  TrainingPass<float> pass(config);
  OptimizerOptions adam;
  adam.kind = OptimizerKind::kAdam;
  Optimizer<float> optimizer(adam, model);
  auto step = [&](int64_t batch) {
    BatchTargets<float> targets;
    targets.labels = absl::MakeConstSpan(data.labels).subspan(0, batch);
    ASSERT_TRUE(pass.Run(model,
                         ConstMatrixMap<float>(data.x.data(), 784, batch),
                         targets)
                    .ok());
    pass.UpdateRunningStatistics(&model);
    optimizer.Step(pass.gradients(), &model);
  };
  step(128);  // sizes the workspaces (and starts OpenBLAS's threads)
  step(128);
  CountAllocations counter;
  for (int i = 0; i < 10; ++i) step(128);
  step(97);  // a smaller last batch reuses the same workspaces
  step(128);
  EXPECT_EQ(counter.count(), 0);
}

INSTANTIATE_TEST_SUITE_P(AllPositions, SteadyStateTest,
                         ::testing::Values(Normalization::kPreActivation,
                                           Normalization::kPostActivation,
                                           Normalization::kNone));

// The real loop: allocations in Train do not grow with the number of
// batches it runs (they are all set-up).
TEST(AllocationTest, TrainAllocatesTheSameForOneEpochOrThree) {
  ModelConfig config;
  config.layer_sizes = {784, 64, 10};
  const testing::Blobs data = testing::MakeBlobs(1000, 784, 10, 2);
  auto allocations_for = [&](int epochs) {
    Model<float> model = *Model<float>::Create(config);
    TrainOptions o;
    o.epochs = epochs;
    o.batch_size = 64;
    o.progress_interval_seconds = 1e9;  // no mid-epoch reports
    CountAllocations counter;
    EXPECT_TRUE(
        testing::ValidateAndTrain(&model, data.View(), nullptr, o).ok());
    return counter.count();
  };
  allocations_for(1);  // warm-up: thread pools, lazy library state
  EXPECT_EQ(allocations_for(1), allocations_for(3));
}

// Predict with a warm workspace: validation, the folded layers (a batch of
// one inline, a batch of 256 split over the compute pool, a batch of 700
// in two chunks), softmax, and the should_stop polls.
TEST(AllocationTest, PredictAllocatesNothingOnceTheWorkspaceIsWarm) {
  ModelConfig config;
  config.layer_sizes = {784, 256, 128, 10};
  const Model<float> model = *Model<float>::Create(config);
  ComputePool pool(2);
  const InferenceModel<float> folded =
      InferenceModel<float>::FromModel(model, pool);
  ASSERT_FALSE(folded.UsesComputePool(1));
  ASSERT_TRUE(folded.UsesComputePool(256));
  const Matrix<float> x = Matrix<float>::Random(784, 700);
  Matrix<float> out(10, 700);
  PredictWorkspace<float> workspace;
  int polls = 0;
  auto predict = [&](int64_t n) {
    absl::StatusOr<PredictInput<float>> input =
        ValidatePredictInput(folded, ConstMatrixMap<float>(x.data(), 784, n));
    ASSERT_TRUE(input.ok());
    ASSERT_TRUE(Predict(folded, *input, MatrixMap<float>(out.data(), 10, n),
                        workspace, [&] { return ++polls < 0; })
                    .ok());
  };
  predict(700);  // sizes the workspace (and starts the pool's threads)
  predict(1);
  const int64_t pool_calls = pool.parallel_for_calls();
  CountAllocations counter;
  for (int i = 0; i < 10; ++i) {
    predict(1);
    predict(256);
    predict(700);
  }
  EXPECT_EQ(counter.count(), 0);
  EXPECT_GT(pool.parallel_for_calls(), pool_calls);  // the pool did run
}

}  // namespace
}  // namespace bnmlp
