// In-process Predict latency of the engine (no RPC): a seeded, untrained
// model (Predict costs the same trained or not), random finite inputs, each
// batch size called back to back; prints the median and p99 microseconds per
// call and the samples/s at the median.
//
// --path=folded (the serving path: ValidatePredictInput + Predict on an
// InferenceModel with a warm PredictWorkspace) or unfolded (the reference
// Predict on the Model, which allocates and recomputes BatchNorm's eval form
// per call).
//
//   build/release/bench/predict_core --arch 784-256-128-10 --batches 1,256
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "core/compute_threads.h"
#include "core/inference_model.h"
#include "core/model.h"
#include "core/predict.h"

ABSL_FLAG(std::string, arch, "784-256-128-10", "layer sizes, dash-separated");
ABSL_FLAG(std::string, batches, "1,256", "batch sizes, comma-separated");
ABSL_FLAG(std::string, path, "folded",
          "folded (InferenceModel, the serving path) or unfolded (reference)");
ABSL_FLAG(int64_t, max_chunk_rows, bnmlp::kDefaultMaxChunkRows,
          "folded path: samples per chunk");
ABSL_FLAG(int, threads, 2, "compute threads");
ABSL_FLAG(double, seconds, 2, "measured seconds per batch size");

namespace bnmlp {
namespace {

using Clock = std::chrono::steady_clock;

bool ParseList(const std::string& text, char sep, std::vector<int64_t>* out) {
  for (absl::string_view part : absl::StrSplit(text, sep)) {
    int64_t v = 0;
    if (!absl::SimpleAtoi(part, &v) || v < 1) return false;
    out->push_back(v);
  }
  return !out->empty();
}

// Median and p99 microseconds of `call` over the configured seconds.
template <typename Call>
void Measure(int64_t batch, Call call) {
  for (int i = 0; i < 50; ++i) call();  // warm-up
  std::vector<double> micros;
  const Clock::time_point end =
      Clock::now() +
      std::chrono::duration_cast<Clock::duration>(
          std::chrono::duration<double>(absl::GetFlag(FLAGS_seconds)));
  while (Clock::now() < end) {
    const Clock::time_point start = Clock::now();
    call();
    micros.push_back(
        std::chrono::duration<double, std::micro>(Clock::now() - start)
            .count());
  }
  std::sort(micros.begin(), micros.end());
  const double p50 = micros[micros.size() / 2];
  const double p99 = micros[micros.size() * 99 / 100];
  std::printf(
      "batch %5lld  calls %8zu  p50 %9.2f us  p99 %9.2f us  %10.0f "
      "samples/s\n",
      static_cast<long long>(batch), micros.size(), p50, p99,
      static_cast<double>(batch) / p50 * 1e6);
  std::fflush(stdout);
}

int Run() {
  ModelConfig config;
  std::vector<int64_t> batches;
  if (!ParseList(absl::GetFlag(FLAGS_arch), '-', &config.layer_sizes) ||
      !ParseList(absl::GetFlag(FLAGS_batches), ',', &batches)) {
    std::fprintf(stderr, "bad --arch or --batches\n");
    return 2;
  }
  const bool folded_path = absl::GetFlag(FLAGS_path) == "folded";
  if (!folded_path && absl::GetFlag(FLAGS_path) != "unfolded") {
    std::fprintf(stderr, "--path must be folded or unfolded\n");
    return 2;
  }
  SetComputeThreads(absl::GetFlag(FLAGS_threads));
  absl::StatusOr<Model<float>> model = Model<float>::Create(config);
  if (!model.ok()) {
    std::fprintf(stderr, "%s\n", model.status().ToString().c_str());
    return 2;
  }
  const InferenceModel<float> folded = InferenceModel<float>::FromModel(*model);
  PredictOptions options;
  options.max_chunk_rows = absl::GetFlag(FLAGS_max_chunk_rows);
  std::printf("arch %s, %d compute threads, GEMM %s, path: %s\n",
              absl::GetFlag(FLAGS_arch).c_str(), ComputeThreads(),
              GemmBackend(), folded_path ? "folded" : "unfolded (reference)");
  PredictWorkspace<float> workspace;
  for (int64_t batch : batches) {
    const Matrix<float> x = Matrix<float>::Random(model->input_size(), batch);
    Matrix<float> out(model->output_size(), batch);
    const ConstMatrixMap<float> in(x.data(), x.rows(), x.cols());
    MatrixMap<float> outputs(out.data(), out.rows(), out.cols());
    if (folded_path) {
      Measure(batch, [&] {
        absl::StatusOr<PredictInput<float>> input =
            ValidatePredictInput(folded, in);
        if (!input.ok() ||
            !Predict(folded, *input, outputs, workspace, NeverStop, options)
                 .ok()) {
          std::abort();
        }
      });
    } else {
      Measure(batch, [&] {
        if (!Predict(*model, in, outputs).ok()) std::abort();
      });
    }
  }
  return 0;
}

}  // namespace
}  // namespace bnmlp

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return bnmlp::Run();
}
