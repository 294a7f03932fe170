// Where one training step's time goes, in process on random data: the
// forward/backward pass, the running-statistics update and the optimizer
// step, each timed inside the real loop; then the same pass's matrix
// products alone and the optimizer step alone, back to back with warm
// caches. The gap between "in the loop" and "alone" is what the other
// phases cost each other (cache evictions, hand-offs between threads).
//
//   build/release/bench/step_breakdown --arch 784-256-128-10 --batch 128
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "core/compute_threads.h"
#include "core/model.h"
#include "core/optimizer.h"
#include "core/parallel_product.h"
#include "core/training_pass.h"

ABSL_FLAG(std::string, arch, "784-256-128-10", "layer sizes, dash-separated");
ABSL_FLAG(int, batch, 128, "mini-batch size");
ABSL_FLAG(int, threads, 2, "compute threads");
ABSL_FLAG(int, steps, 2000, "measured steps per figure");

namespace bnmlp {
namespace {

using Clock = std::chrono::steady_clock;

double MicrosSince(Clock::time_point start) {
  return std::chrono::duration<double, std::micro>(Clock::now() - start)
      .count();
}

// Mean microseconds per call of `fn` over `steps` calls, after a warm-up.
template <typename Fn>
double TimeEach(int steps, Fn fn) {
  for (int i = 0; i < steps / 10 + 1; ++i) fn();
  const Clock::time_point start = Clock::now();
  for (int i = 0; i < steps; ++i) fn();
  return MicrosSince(start) / steps;
}

int Run() {
  ModelConfig config;
  for (absl::string_view size :
       absl::StrSplit(absl::GetFlag(FLAGS_arch), '-')) {
    int64_t value = 0;
    if (!absl::SimpleAtoi(size, &value)) return 1;
    config.layer_sizes.push_back(value);
  }
  SetComputeThreads(absl::GetFlag(FLAGS_threads));
  const int64_t batch = absl::GetFlag(FLAGS_batch);
  const int steps = absl::GetFlag(FLAGS_steps);
  absl::StatusOr<Model<float>> created = Model<float>::Create(config);
  if (!created.ok()) {
    std::fprintf(stderr, "%s\n", created.status().ToString().c_str());
    return 1;
  }
  Model<float>& model = *created;
  TrainingPass<float> pass(config);
  Optimizer<float> optimizer(OptimizerOptions(), model);
  const Matrix<float> x = Matrix<float>::Random(model.input_size(), batch);
  std::vector<int32_t> labels(batch);
  for (int64_t j = 0; j < batch; ++j) {
    labels[j] = static_cast<int32_t>(j % model.output_size());
  }
  BatchTargets<float> targets;
  targets.labels = labels;
  const ConstMatrixMap<float> input(x.data(), x.rows(), x.cols());

  double pass_us = 0, statistics_us = 0, optimizer_us = 0;
  const double step_us = TimeEach(steps, [&] {
    Clock::time_point start = Clock::now();
    if (!pass.Run(model, input, targets, false).ok()) std::abort();
    pass_us += MicrosSince(start);
    start = Clock::now();
    pass.UpdateRunningStatistics(&model);
    statistics_us += MicrosSince(start);
    start = Clock::now();
    optimizer.Step(pass.gradients(), &model);
    optimizer_us += MicrosSince(start);
  });
  const double timed = steps + steps / 10 + 1;

  // The pass's products alone, in the pass's order: forward W a for every
  // layer, then from the last layer back dW = dz a^T and (but for the first
  // layer) the input gradient W^T dz.
  std::vector<Matrix<float>> activations, outputs, weight_grads, input_grads;
  double flops = 0;
  for (int l = 0; l < model.num_layers(); ++l) {
    const Matrix<float>& w = model.layer(l).weight;
    activations.push_back(Matrix<float>::Random(w.cols(), batch));
    outputs.push_back(Matrix<float>::Random(w.rows(), batch));
    weight_grads.emplace_back(w.rows(), w.cols());
    input_grads.emplace_back(w.cols(), batch);
    flops += 2.0 * w.size() * batch * (l == 0 ? 2 : 3);
  }
  const double products_us = TimeEach(steps, [&] {
    for (int l = 0; l < model.num_layers(); ++l) {
      ParallelProduct(outputs[l], model.layer(l).weight, activations[l]);
    }
    for (int l = model.num_layers() - 1; l >= 0; --l) {
      const Matrix<float>& w = model.layer(l).weight;
      ParallelProduct(weight_grads[l], outputs[l], activations[l].transpose());
      if (l > 0) ParallelProduct(input_grads[l], w.transpose(), outputs[l]);
    }
  });
  const double optimizer_alone_us =
      TimeEach(steps, [&] { optimizer.Step(pass.gradients(), &model); });

  std::printf("arch %s, batch %lld, %d compute threads, GEMM %s\n",
              absl::GetFlag(FLAGS_arch).c_str(), static_cast<long long>(batch),
              ComputeThreads(), GemmBackend());
  std::printf(
      "in the loop: step %.1f us = pass %.1f + running stats %.1f + "
      "optimizer %.1f  (%.0f samples/s, %.1f GFLOP/s)\n",
      step_us, pass_us / timed, statistics_us / timed, optimizer_us / timed,
      batch / step_us * 1e6, flops / step_us / 1e3);
  std::printf(
      "alone:       products %.1f us (%.1f GFLOP/s), optimizer %.1f "
      "us\n",
      products_us, flops / products_us / 1e3, optimizer_alone_us);
  return 0;
}

}  // namespace
}  // namespace bnmlp

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return bnmlp::Run();
}
