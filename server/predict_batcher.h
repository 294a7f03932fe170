// Merges concurrent small Predicts on the same model version into one
// product (dynamic batching), and splits the outputs back.
//
// Why: a batch-1 Predict of a 784-256-128-10 model streams all 0.94 MB of
// its weights from memory for one sample (~190 us of CPU), so 64 concurrent
// batch-1 calls reached a quarter of the empty RPC's calls/s. Merged, the
// weights are streamed once per product of up to max_rows samples.
//
// How (leader/follower per model version): a call queues itself on its
// model version's queue. If no call is computing for that version, it
// becomes the leader at once (an idle server adds no delay and no copy: a
// leader alone runs its own Predict on its own buffers). The leader takes
// every waiting call, in order and whole, while their rows fit in max_rows,
// gathers their inputs into one matrix, runs the Predict, scatters the
// outputs into each caller's buffer and wakes them. Calls that arrived
// meanwhile wait; the leader computes them too, for up to kMaxLeaderRounds
// batches (waking a sleeping thread to lead costs more than a product on a
// busy machine), then the first waiting call leads next.
// With max_delay > 0 a leader first waits up to that long for max_rows rows.
//
// Outputs are each call's own (evaluation mode: a sample's answer does not
// depend on its batch) up to float rounding of a different product shape.
//
// Per-version state lives only while calls on that version are queued or
// computing: it is keyed by the InferenceModel's address, which every such
// call keeps alive (it holds the version's snapshot), and erased by the last
// call to leave. So nothing leaks after a version is gone, and an address
// reused by a later version never meets stale state.
//
// Memory: a merged product uses the leader's PredictWorkspace (rows of the
// product, at most the sum of its members' rows) and per-thread gather
// buffers of (inputs + outputs) x rows floats; callers reserve their share
// of both (MergeBufferBytes). Buffers beyond kKeptBufferBytes are freed
// after each product.
#ifndef BNMLP_SERVER_PREDICT_BATCHER_H_
#define BNMLP_SERVER_PREDICT_BATCHER_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "common/annotated_mutex.h"
#include "core/inference_model.h"
#include "core/matrix.h"
#include "core/predict_input.h"

namespace bnmlp {

// --batch_max_rows' default: a product of 64 samples already reuses each
// weight 64 times per trip from memory (the per-sample cost is then close
// to the arithmetic's), while a larger merge would mostly add the time of a
// bigger product to the first caller's latency.
inline constexpr int64_t kDefaultBatchMaxRows = 64;

struct PredictBatcherOptions {
  // The most samples one merged product takes; calls of this many samples
  // or more are not merged (Merges). 0 or 1: nothing is merged.
  int64_t max_rows = kDefaultBatchMaxRows;
  // How long a leader may wait for more calls before computing; 0 merges
  // only the calls already waiting.
  std::chrono::microseconds max_delay{0};
};

// Thread-safe: Run may be called concurrently from any number of threads,
// on any number of models. One AnnotatedMutex (mu_) guards all queues; it
// is held only to queue, take or finish calls (never during a product, a
// copy or a wake-up). Each call sleeps on its own std::mutex and
// std::condition_variable (visible to TSan, unlike absl::CondVar), taken
// after mu_ when both are held, so a woken call never queues for mu_.
class PredictBatcher {
 public:
  using Clock = std::chrono::system_clock;  // gRPC deadlines' clock
  // How often a queued call checks its should_stop.
  static constexpr std::chrono::milliseconds kStopPollInterval{20};
  // The gather buffers a thread keeps between merged products.
  static constexpr int64_t kKeptBufferBytes = int64_t{4} << 20;
  // Most batches one leader computes in a row (see Lead) before it hands
  // leadership to a waiting call and returns its own result.
  static constexpr int kMaxLeaderRounds = 8;

  explicit PredictBatcher(PredictBatcherOptions options);
  // Requires that no call is inside Run.
  ~PredictBatcher();
  PredictBatcher(const PredictBatcher&) = delete;
  PredictBatcher& operator=(const PredictBatcher&) = delete;

  const PredictBatcherOptions& options() const { return options_; }

  // Whether Run merges calls of `samples` samples (else callers Predict
  // alone, as before batching).
  bool Merges(int64_t samples) const {
    return options_.max_rows > 1 && samples < options_.max_rows;
  }
  // The gather buffers' bytes for `samples` of `model`'s samples: what a
  // merged call reserves beyond its own workspace and response.
  static int64_t MergeBufferBytes(const InferenceModel<float>& model,
                                  int64_t samples);

  // Writes `model`'s outputs for `input` into `outputs` (as core Predict
  // does), possibly within a product merged with concurrent calls on the
  // same `model`. Requires Merges(input.samples()), `outputs` shaped
  // (outputs x samples), and `chunking` the same for every call on `model`.
  // `workspace` is the calling thread's (used if this call leads).
  //
  // CANCELLED if `should_stop` returned true, or `deadline` passed, while
  // the call was still queued (it left the queue; `outputs` is untouched),
  // or during its forward pass if it ran alone; a call taken into a merged
  // product stays until the product is done (it is short) and gets its
  // result. Other errors are Predict's. `should_stop` is called on the
  // calling thread only: while queued, under the call's own signal mutex
  // (so it must be quick and must not call back into the batcher), and,
  // alone, between layers.
  absl::Status Run(const InferenceModel<float>& model,
                   const PredictInput<float>& input, MatrixMap<float> outputs,
                   PredictWorkspace<float>& workspace,
                   const PredictOptions& chunking, Clock::time_point deadline,
                   absl::FunctionRef<bool()> should_stop);

  // Model versions with calls queued or computing right now (tests).
  size_t active_versions() const;
  // Calls queued (not yet taken into a product) right now, over all
  // versions (tests).
  size_t waiting_calls() const;
  // Products that merged two calls or more, since construction (tests).
  int64_t merged_products() const {
    return merged_products_.load(std::memory_order_relaxed);
  }

 private:
  // Where a call is: queued, leading, taken into a leader's product, done.
  enum class CallState { kQueued, kLeading, kTaken, kDone };
  struct Pending;
  struct VersionQueue;

  // Leads: takes the waiting calls that fit, computes, finishes them; again
  // while calls wait (up to kMaxLeaderRounds); hands leadership on. Returns
  // the leader's own status.
  absl::Status Lead(const InferenceModel<float>& model, VersionQueue& queue,
                    Pending& self, PredictWorkspace<float>& workspace,
                    const PredictOptions& chunking,
                    absl::FunctionRef<bool()> stop);
  // Moves the waiting calls that fit max_rows, in order and whole, into
  // `batch`, marking them taken.
  void TakeBatch(VersionQueue& queue, Pending& self,
                 std::vector<Pending*>& batch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Computes one batch: alone (stoppable if it is `self`) or merged.
  absl::Status ComputeBatch(const InferenceModel<float>& model,
                            const Pending& self,
                            const std::vector<Pending*>& batch,
                            PredictWorkspace<float>& workspace,
                            const PredictOptions& chunking,
                            absl::FunctionRef<bool()> stop);
  // One product over every member's samples, outputs scattered back.
  static absl::Status ComputeMerged(const InferenceModel<float>& model,
                                    const std::vector<Pending*>& batch,
                                    PredictWorkspace<float>& workspace,
                                    const PredictOptions& chunking);
  // A queued call waits until it is told kDone or kLeading, or leaves the
  // queue once `stop` (returns kQueued then, the call out of the queue).
  CallState AwaitSignal(const InferenceModel<float>& model, VersionQueue& queue,
                        Pending& self, Clock::time_point deadline,
                        absl::FunctionRef<bool()> stop);
  // Waits (up to max_delay) until max_rows rows are queued or `stop`;
  // true if it should stop. Called without mu_.
  bool AwaitMoreRows(VersionQueue& queue, Pending& self,
                     absl::FunctionRef<bool()> stop);
  // A call leaves `queue` (done, or stopped while queued); the last one
  // erases it.
  void Leave(const InferenceModel<float>& model, VersionQueue& queue)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Marks the first waiting call the leader (returned, for the caller to
  // signal once mu_ is released), or marks the queue idle (null).
  Pending* HandOnLeadership(VersionQueue& queue)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const PredictBatcherOptions options_;
  mutable AnnotatedMutex mu_;  // held for queue bookkeeping only
  absl::flat_hash_map<const InferenceModel<float>*,
                      std::unique_ptr<VersionQueue>>
      queues_ ABSL_GUARDED_BY(mu_);
  std::atomic<int64_t> merged_products_{0};
};

}  // namespace bnmlp

#endif  // BNMLP_SERVER_PREDICT_BATCHER_H_
