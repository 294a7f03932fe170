// Training throughput and accuracy of the engine on Fashion-MNIST, in
// process: the same network, data and loop as
// ../shared/baselines/torch_bnmlp.py, so the two can be compared in one run
// (bench/compare_torch.sh).
//
//   build/release/bench/train_bnmlp --arch 784-256-128-10 --batch 128
//       --epochs 10 --opt sgd --json out.json
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/compute_threads.h"
#include "core/trainer.h"
#include "data/fashion_mnist.h"

ABSL_FLAG(std::string, arch, "784-256-128-10", "layer sizes, dash-separated");
ABSL_FLAG(int, batch, 128, "mini-batch size");
ABSL_FLAG(int, epochs, 10, "epochs");
ABSL_FLAG(std::string, opt, "sgd",
          "sgd (lr 0.05, momentum 0.9) or adam (lr 1e-3)");
ABSL_FLAG(double, lr, 0, "learning rate; 0 = the optimizer's default above");
ABSL_FLAG(bool, cosine, false, "cosine-anneal the learning rate to 0");
ABSL_FLAG(uint64_t, seed, 0, "initialization and shuffle seed");
ABSL_FLAG(int, threads, 2, "compute threads");
ABSL_FLAG(std::string, json, "", "also write the figures to this JSON file");
ABSL_FLAG(int, blas_threads, 1,
          "OpenBLAS's own threads inside each GEMM (the engine uses 1 and "
          "parallelizes with its compute pool; >1 measures the alternative "
          "of OpenBLAS's threaded GEMM, usually with --threads 1)");

#if defined(BNMLP_GEMM_OPENBLAS)
extern "C" void openblas_set_num_threads(int num_threads);
#endif

namespace bnmlp {
namespace {

// FLOPs of one training step per sample: forward 2 in out per layer;
// backward twice that, minus the first layer's input gradient.
double TrainFlopsPerSample(const std::vector<int64_t>& sizes) {
  double forward = 0;
  for (size_t l = 0; l + 1 < sizes.size(); ++l) {
    forward += 2.0 * static_cast<double>(sizes[l] * sizes[l + 1]);
  }
  return 3 * forward - 2.0 * static_cast<double>(sizes[0] * sizes[1]);
}

Dataset<float> View(const data::Examples& e) {
  Dataset<float> d;
  new (&d.x)
      ConstMatrixMap<float>(e.features.data(), e.num_features, e.num_samples);
  d.labels = e.labels;
  return d;
}

int Run() {
  std::vector<int64_t> sizes;
  for (absl::string_view part :
       absl::StrSplit(absl::GetFlag(FLAGS_arch), '-')) {
    int64_t v;
    if (!absl::SimpleAtoi(part, &v)) {
      std::fprintf(stderr, "--arch: '%s' is not a number\n",
                   std::string(part).c_str());
      return 2;
    }
    sizes.push_back(v);
  }
  SetComputeThreads(absl::GetFlag(FLAGS_threads));
#if defined(BNMLP_GEMM_OPENBLAS)
  openblas_set_num_threads(absl::GetFlag(FLAGS_blas_threads));
#endif
  absl::StatusOr<data::Examples> train =
      data::LoadFashionMnist(data::FashionMnistSplit::kTrain);
  absl::StatusOr<data::Examples> test =
      data::LoadFashionMnist(data::FashionMnistSplit::kTest);
  if (!train.ok() || !test.ok()) {
    std::fprintf(
        stderr, "%s\n",
        (train.ok() ? test.status() : train.status()).ToString().c_str());
    return 1;
  }
  ModelConfig config;
  config.layer_sizes = sizes;
  config.seed = absl::GetFlag(FLAGS_seed);
  absl::StatusOr<Model<float>> model = Model<float>::Create(config);
  if (!model.ok()) {
    std::fprintf(stderr, "%s\n", model.status().ToString().c_str());
    return 2;
  }
  TrainOptions options;
  options.epochs = absl::GetFlag(FLAGS_epochs);
  options.batch_size = absl::GetFlag(FLAGS_batch);
  options.shuffle_seed = absl::GetFlag(FLAGS_seed);
  const bool adam = absl::GetFlag(FLAGS_opt) == "adam";
  options.optimizer.kind = adam ? OptimizerKind::kAdam : OptimizerKind::kSgd;
  options.optimizer.learning_rate = absl::GetFlag(FLAGS_lr) > 0
                                        ? absl::GetFlag(FLAGS_lr)
                                        : (adam ? 1e-3 : 0.05);
  options.optimizer.momentum = 0.9;
  if (absl::GetFlag(FLAGS_cosine)) {
    options.schedule = LearningRateSchedule::kCosine;
  }
  options.progress_interval_seconds = 1e9;  // epoch ends only

  const double flops = TrainFlopsPerSample(sizes);
  std::printf(
      "bnmlp engine: arch %s, batch %d, %s, %d compute threads, GEMM %s "
      "%s\n",
      absl::GetFlag(FLAGS_arch).c_str(), absl::GetFlag(FLAGS_batch),
      adam ? "adam" : "sgd", ComputeThreads(), GemmBackend(),
      GemmKernels().c_str());
  std::vector<std::string> epochs_json;
  TrainCallbacks<float> callbacks;
  callbacks.on_progress = [&](const TrainingProgress& p, const Model<float>&) {
    if (!p.epoch_end) return true;
    const double gflops = p.samples_per_second * flops / 1e9;
    std::printf(
        "epoch %2d  %9.0f samples/s  %6.1f GFLOP/s  loss %.4f  test_acc %.4f\n",
        p.epoch, p.samples_per_second, gflops, p.loss, p.validation_accuracy);
    std::fflush(stdout);
    epochs_json.push_back(absl::StrFormat(
        R"({"epoch":%d,"samples_per_s":%.1f,"gflops":%.2f,"train_loss":%.6f,"test_acc":%.6f,"test_loss":%.6f,"elapsed_s":%.3f})",
        p.epoch, p.samples_per_second, gflops, p.loss, p.validation_accuracy,
        p.validation_loss, p.elapsed_seconds));
    return true;
  };
  const Dataset<float> test_view = View(*test);
  absl::StatusOr<TrainingInputs<float>> inputs =
      ValidateTrainInputs(config, View(*train), &test_view, options);
  if (!inputs.ok()) {
    std::fprintf(stderr, "%s\n", inputs.status().ToString().c_str());
    return 2;
  }
  absl::StatusOr<TrainingProgress> last = Train(&*model, *inputs, callbacks);
  if (!last.ok()) {
    std::fprintf(stderr, "%s\n", last.status().ToString().c_str());
    return 1;
  }
  std::printf("wall %.1f s (training + per-epoch test evaluation)\n",
              last->elapsed_seconds);
  if (const std::string path = absl::GetFlag(FLAGS_json); !path.empty()) {
    std::ofstream(path)
        << absl::StrFormat(
               R"({"engine":"bnmlp","arch":"%s","batch":%d,"opt":"%s","threads":%d,"gemm":"%s","flops_per_sample":%.0f,"wall_s":%.3f,"epochs":[%s]})",
               absl::GetFlag(FLAGS_arch), options.batch_size,
               adam ? "adam" : "sgd", ComputeThreads(), GemmBackend(), flops,
               last->elapsed_seconds, absl::StrJoin(epochs_json, ","))
        << "\n";
  }
  return 0;
}

}  // namespace
}  // namespace bnmlp

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Trains a BN-MLP on Fashion-MNIST and prints throughput");
  absl::ParseCommandLine(argc, argv);
  return bnmlp::Run();
}
