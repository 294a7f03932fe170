// The evaluation-mode form of a model, built once per published version,
// and the fast Predict that runs it.
//
// Folding: every BatchNorm (with its running statistics) becomes part of a
// Linear layer, so each layer is y = g(W' x + b'):
//  - pre-activation (Linear -> BN -> g): W's rows scaled by
//    s = gamma / sqrt(running_var + eps), b' = beta - running_mean s;
//  - post-activation (Linear + b -> g -> BN): the BN map s a + t moves into
//    the NEXT layer: W2' = W2 diag(s), b2' = W2 t + b2.
// Folds are computed in double and stored in T. The unfolded Predict on a
// Model (core/predict.h) stays the reference the fold is tested against.
#ifndef BNMLP_CORE_INFERENCE_MODEL_H_
#define BNMLP_CORE_INFERENCE_MODEL_H_

#include <cstdint>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "core/compute_pool.h"
#include "core/matrix.h"
#include "core/model.h"
#include "core/model_config.h"
#include "core/parallel_product.h"
#include "core/predict_input.h"

namespace bnmlp {

// Predict's default bound on the samples (rows of the API's [N, inputs] x)
// pushed through the layers at once: bounds the workspace (two
// widest-layer x 512 buffers) and is the granularity of should_stop, while
// each weight matrix is still reused over 512 samples per trip from memory.
inline constexpr int64_t kDefaultMaxChunkRows = 512;

// The default bound on Predict's workspace, for ChunkRowsWithin: 64 MiB
// holds 512 samples of layers up to 16,384 units wide (float), so only
// wider models run in smaller chunks (a [1, 3355442, 2] model: 2 samples).
inline constexpr int64_t kDefaultMaxWorkspaceBytes = int64_t{64} << 20;

// The most a thread that serves Predicts keeps between calls
// (PredictWorkspace::TrimTo, and again in a merging thread's gather
// buffers): 512 samples of models up to 1,024 units wide stay
// allocation-free, while a wide model's rare chunk is freed after its call.
inline constexpr int64_t kKeptWorkspaceBytes = int64_t{4} << 20;

// Immutable after FromModel: safe to share between threads (each calling
// thread brings its own PredictWorkspace).
template <typename T>
class InferenceModel {
 public:
  // The folded form of `model`'s current parameters and running statistics.
  // Products run on `pool`, which must outlive the inference model.
  static InferenceModel FromModel(const Model<T>& model,
                                  ComputePool& pool = ComputePool::Default());

  const ModelConfig& config() const { return config_; }
  int64_t input_size() const { return config_.layer_sizes.front(); }
  int64_t output_size() const { return config_.layer_sizes.back(); }
  int num_layers() const { return static_cast<int>(layers_.size()); }
  // Layer l computes activation(l)(weight(l) x + bias(l)); the output layer's
  // activation is the identity (softmax follows for classification).
  const RowMajorMatrix<T>& weight(int l) const { return layers_[l].weight; }
  const Vector<T>& bias(int l) const { return layers_[l].bias; }
  Activation activation(int l) const { return layers_[l].activation; }
  // How layer l's products of a few samples run (float models: in panels
  // where OpenBLAS's small-matrix kernels take them, else SkinnyProduct;
  // double models: whole products).
  const NarrowProductRule& narrow_product(int l) const {
    return layers_[l].narrow;
  }
  // FromModel's transient memory beyond the result: one layer's weight in
  // double while it is folded, 2 x 4 bytes per parameter at most.
  static int64_t FoldTransientBytes(int64_t parameters) {
    return 2 * parameters * static_cast<int64_t>(sizeof(float));
  }
  // The widest hidden layer (0 without hidden layers).
  int64_t widest_hidden() const { return widest_hidden_; }
  ComputePool& pool() const { return *pool_; }

  // Whether a Predict of `samples` samples (chunked by max_chunk_rows) will
  // split any of its products over the compute pool: true iff some layer's
  // product on the largest chunk is one ParallelProduct splits (at least
  // kMinParallelMacs multiply-adds, and a pool of more than one thread).
  // Callers use it to decide whether the Predict competes for the pool.
  bool UsesComputePool(int64_t samples,
                       int64_t max_chunk_rows = kDefaultMaxChunkRows) const;

  // The bytes of a PredictWorkspace after a Predict in chunks of at most
  // `chunk_rows` samples (two widest-hidden-layer x chunk_rows buffers).
  int64_t WorkspaceBytes(int64_t chunk_rows) const;
  // The largest chunk (in samples, 1 to kDefaultMaxChunkRows) whose
  // workspace fits `max_workspace_bytes`; 1 when not even one sample's does
  // (one sample's activations are the least Predict can work with).
  int64_t ChunkRowsWithin(int64_t max_workspace_bytes) const;

 private:
  struct Layer {
    RowMajorMatrix<T> weight;  // [out, in], BatchNorm folded in
    Vector<T> bias;            // [out]
    Activation activation;
    NarrowProductRule narrow;
  };
  InferenceModel(const ModelConfig& config, ComputePool& pool)
      : config_(config), pool_(&pool) {}

  ModelConfig config_;
  ComputePool* pool_;
  std::vector<Layer> layers_;
  int64_t widest_hidden_ = 0;
};

// Predict's scratch memory: two activation buffers that grow to the largest
// (widest layer x chunk) seen and are reused, so Predict allocates nothing
// once warm. One per calling thread (not thread-safe); any model may use it.
template <typename T>
class PredictWorkspace {
 public:
  // A (rows x cols) view of buffer `which` (0 or 1), grown if too small;
  // growing invalidates earlier views of that buffer.
  MatrixMap<T> Buffer(int which, Eigen::Index rows, Eigen::Index cols);
  // Values held by both buffers.
  int64_t allocated_values() const {
    return buffers_[0].size() + buffers_[1].size();
  }
  // Frees both buffers if they hold more than `max_bytes`: a thread that
  // keeps a workspace between calls bounds what it keeps (a wide model's
  // chunk may need far more than the usual calls).
  void TrimTo(int64_t max_bytes) {
    if (allocated_values() * static_cast<int64_t>(sizeof(T)) > max_bytes) {
      *this = PredictWorkspace();
    }
  }

 private:
  Vector<T> buffers_[2];
};

struct PredictOptions {
  // At most this many samples go through the layers at once (>= 1).
  int64_t max_chunk_rows = kDefaultMaxChunkRows;
  // Classification: leave the outputs as logits (no softmax), for losses
  // computed with log-sum-exp. Ignored for regression.
  bool logits = false;
  // Every product on the calling thread, none split over the model's pool:
  // for a caller that keeps the other cores busy otherwise (a server
  // merging small calls while its other threads serve the network), where
  // waking the pool's workers costs more than it saves.
  bool calling_thread_only = false;
};

inline bool NeverStop() { return false; }

// Writes the model's outputs for `input` into `outputs` (outputs x N,
// caller-allocated, need not be initialized: every entry is overwritten):
// class probabilities (softmax) for classification, values for regression.
// Evaluation mode, so each sample's answer is independent of the batch.
//
// should_stop is called before every layer of every chunk (so between
// chunks and between layers); when it returns true Predict returns
// CANCELLED at once and `outputs` is partly written. It must be cheap.
// INVALID_ARGUMENT if `input` or `outputs` disagree with the model's shape
// or options.max_chunk_rows < 1 (O(1) checks: the values were validated).
// Allocation-free once `workspace` is warm. Thread-safe for concurrent calls
// on one model with distinct workspaces and outputs.
template <typename T>
absl::Status Predict(const InferenceModel<T>& model,
                     const PredictInput<T>& input, MatrixMap<T> outputs,
                     PredictWorkspace<T>& workspace,
                     absl::FunctionRef<bool()> should_stop = NeverStop,
                     const PredictOptions& options = {});

extern template class InferenceModel<float>;
extern template class InferenceModel<double>;
extern template class PredictWorkspace<float>;
extern template class PredictWorkspace<double>;

}  // namespace bnmlp

#endif  // BNMLP_CORE_INFERENCE_MODEL_H_
