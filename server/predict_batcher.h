// Merges concurrent small Predicts on the same model version into one
// product (dynamic batching), and splits the outputs back. For callers that
// must not block (gRPC callback handlers): no call ever waits on a thread.
//
// Why: a batch-1 Predict of a 784-256-128-10 model streams all 0.94 MB of
// its weights from memory for one sample, so 64 concurrent batch-1 calls
// spend their CPU re-reading weights. Merged, the weights are streamed once
// per product of up to max_rows samples.
//
// How (a leader per model version): Submit queues a call on its version's
// queue. If no product is computing for that version, the submitting
// thread leads at once (an idle server adds no delay and no copy: a call
// alone runs on its own buffers): it takes every waiting call, in order and
// whole, while their rows fit in max_rows, gathers their inputs into one
// matrix, runs the Predict, scatters the outputs into each call's buffer and
// runs each call's Done; then again with whatever queued meanwhile, until
// the queue is empty. Calls that find a product computing only queue and
// return: their Done runs later on the leader's thread. So a queued call
// holds no thread, and nothing is woken to compute it.
//
// With max_delay > 0, a call that finds its version idle and fewer than
// max_rows rows queued does not lead at once: the batcher's delay thread
// leads that queue max_delay later, or the call that brings the queue to
// max_rows leads it then.
//
// Outputs are each call's own (evaluation mode: a sample's answer does not
// depend on its batch) up to float rounding of a different product shape.
//
// Per-version state lives only while calls on that version are queued or
// computing: it is keyed by the InferenceModel's
// address, which every queued call keeps alive (it holds the version's
// snapshot), and erased when the last user leaves. So nothing leaks after a
// version is gone.
//
// Memory: a merged product uses the leader thread's PredictWorkspace (rows
// of the product, at most the sum of its members' rows) and per-thread
// gather buffers of (inputs + outputs) x rows floats; callers reserve their
// share of both (MergeBufferBytes). Buffers beyond kKeptWorkspaceBytes
// (core/inference_model.h) are freed after each product.
#ifndef BNMLP_SERVER_PREDICT_BATCHER_H_
#define BNMLP_SERVER_PREDICT_BATCHER_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
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
  // How long a lone call may wait for more calls before its product
  // computes; 0 merges only the calls already waiting.
  std::chrono::microseconds max_delay{0};
};

// Thread-safe: Submit and Withdraw may be called concurrently from any
// number of threads, on any number of models. One AnnotatedMutex (mu_)
// guards all queues; it is held only to queue, take or withdraw calls
// (never during a product or a Done).
class PredictBatcher {
 public:
  // One Predict submitted to the batcher. Not copyable; the owner keeps it
  // alive until Done has run, or until Withdraw returned true.
  class Call {
   public:
    // `input` and `outputs` (outputs x samples) must stay valid as long as
    // the call.
    Call(const PredictInput<float>& input, MatrixMap<float> outputs)
        : input_(input), outputs_(outputs) {}
    virtual ~Call() = default;
    Call(const Call&) = delete;
    Call& operator=(const Call&) = delete;

    // Runs exactly once per submitted call that was not withdrawn, on the
    // thread that computed it (possibly inside Submit, possibly another
    // caller's thread), after `outputs` were written (if `status` is OK),
    // without the batcher's mutex. The call may be destroyed inside Done.
    virtual void Done(absl::Status status) = 0;

   private:
    friend class PredictBatcher;
    const PredictInput<float> input_;
    MatrixMap<float> outputs_;
    bool queued_ = false;  // guarded by PredictBatcher::mu_
  };

  explicit PredictBatcher(PredictBatcherOptions options);
  // Requires that no call is queued or computing.
  ~PredictBatcher();
  PredictBatcher(const PredictBatcher&) = delete;
  PredictBatcher& operator=(const PredictBatcher&) = delete;

  const PredictBatcherOptions& options() const { return options_; }

  // Whether calls of `samples` samples are merged (else callers Predict
  // alone, as before batching).
  bool Merges(int64_t samples) const {
    return options_.max_rows > 1 && samples < options_.max_rows;
  }
  // The gather buffers' bytes for `samples` of `model`'s samples: what a
  // merged call reserves beyond its own workspace and response.
  static int64_t MergeBufferBytes(const InferenceModel<float>& model,
                                  int64_t samples);

  // Computes `model`'s outputs for `call` (as core Predict does), possibly
  // within a product merged with other calls on the same `model`, and then
  // runs call.Done with the result. Requires Merges(samples), and
  // `chunking` the same for every call on `model`; `model` must outlive
  // the call's Done (or a successful Withdraw).
  //
  // If no product is computing for `model` (and no delay is pending), the
  // calling thread computes: this call and every call that queues for
  // `model` meanwhile, until none waits. Otherwise Submit returns at once.
  void Submit(const InferenceModel<float>& model, Call& call,
              const PredictOptions& chunking);

  // Takes `call` out of its queue if it is still waiting there (e.g. its
  // client cancelled): true, and its Done will never run. False if it was
  // taken into a product or is done: its Done runs or has run.
  bool Withdraw(const InferenceModel<float>& model, Call& call);

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
  struct VersionQueue;
  using Clock = std::chrono::steady_clock;
  // A pending delay: the delay thread leads `model`'s queue at `due`.
  struct Delay {
    Clock::time_point due;
    const InferenceModel<float>* model;
  };

  // Computes `queue`'s waiting calls, batch after batch, until none waits;
  // then marks the queue idle and leaves it. Called with `queue` marked
  // computing, without mu_.
  void Lead(const InferenceModel<float>& model, VersionQueue& queue);
  // Moves the waiting calls that fit max_rows, in order and whole, into
  // `batch`.
  void TakeBatch(VersionQueue& queue, std::vector<Call*>& batch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Computes one batch: alone (on the call's own buffers) or merged.
  absl::Status ComputeBatch(const InferenceModel<float>& model,
                            const std::vector<Call*>& batch,
                            const PredictOptions& chunking);
  // One product over every member's samples, outputs scattered back.
  static absl::Status ComputeMerged(const InferenceModel<float>& model,
                                    const std::vector<Call*>& batch,
                                    const PredictOptions& chunking);
  // A user leaves `queue`; the last one erases it.
  void Leave(const InferenceModel<float>& model, VersionQueue& queue)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The delay thread: leads each delayed queue when its delay is over.
  void DelayLoop();
  void StartDelay(const InferenceModel<float>& model, VersionQueue& queue)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const PredictBatcherOptions options_;
  mutable AnnotatedMutex mu_;  // held for queue bookkeeping only
  absl::flat_hash_map<const InferenceModel<float>*,
                      std::unique_ptr<VersionQueue>>
      queues_ ABSL_GUARDED_BY(mu_);
  std::atomic<int64_t> merged_products_{0};

  // The delay thread's schedule (only with max_delay > 0), in due order
  // (every delay is max_delay long). Guarded by delay_mu_, taken after mu_
  // when both are held; the thread sleeps on delay_cv_.
  std::mutex delay_mu_;
  std::condition_variable delay_cv_;
  std::vector<Delay> delays_;  // guarded by delay_mu_
  bool stopping_ = false;      // guarded by delay_mu_
  std::thread delay_thread_;
};

}  // namespace bnmlp

#endif  // BNMLP_SERVER_PREDICT_BATCHER_H_
