#include "server/predict_batcher.h"

#include <algorithm>
#include <cassert>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <utility>
#include <vector>

namespace bnmlp {
namespace {

// std::condition_variable_any's view of an AnnotatedMutex the caller holds
// (through a WriterLock): the wait releases and retakes it.
class WaitableMutex {
 public:
  explicit WaitableMutex(AnnotatedMutex& mu) : mu_(mu) {}
  void lock() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu_.Lock(); }
  void unlock() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu_.Unlock(); }

 private:
  AnnotatedMutex& mu_;
};

absl::Status LeftQueue() {
  return absl::CancelledError(
      "the call stopped while queued to be merged with other Predicts");
}

}  // namespace

// One call, on its caller's stack for the whole of Run. `input` and
// `outputs` are set before it is queued and read (outputs written) by the
// leader that takes it; the rest is guarded by PredictBatcher::mu_.
struct PredictBatcher::Pending {
  enum class State { kQueued, kLeading, kTaken, kDone };

  Pending(const PredictInput<float>& input, MatrixMap<float> outputs)
      : input(input), outputs(outputs) {}

  const PredictInput<float> input;
  MatrixMap<float> outputs;  // written by the leader that takes the call
  std::condition_variable_any wake;  // state changed (or: more rows queued)
  State state = State::kQueued;
  absl::Status result;  // set with kDone
};

// The calls on one model version. Guarded by PredictBatcher::mu_.
struct PredictBatcher::VersionQueue {
  std::deque<Pending*> waiting;  // queued, in arrival order
  int64_t waiting_rows = 0;      // their samples
  // A leader exists (computing, or promoted and not yet awake): while so,
  // new calls wait instead of leading.
  bool led = false;
  Pending* delaying = nullptr;  // the leader waiting for more rows, if any
  int users = 0;                // calls inside Run on this version
};

PredictBatcher::PredictBatcher(PredictBatcherOptions options)
    : options_(options) {}

PredictBatcher::~PredictBatcher() = default;

int64_t PredictBatcher::MergeBufferBytes(const InferenceModel<float>& model,
                                         int64_t samples) {
  return (model.input_size() + model.output_size()) * samples *
         static_cast<int64_t>(sizeof(float));
}

size_t PredictBatcher::active_versions() const {
  WriterLock lock(&mu_);
  return queues_.size();
}

size_t PredictBatcher::waiting_calls() const {
  WriterLock lock(&mu_);
  size_t calls = 0;
  for (const auto& [model, queue] : queues_) calls += queue->waiting.size();
  return calls;
}

absl::Status PredictBatcher::Run(const InferenceModel<float>& model,
                                 const PredictInput<float>& input,
                                 MatrixMap<float> outputs,
                                 PredictWorkspace<float>& workspace,
                                 const PredictOptions& chunking,
                                 Clock::time_point deadline,
                                 absl::FunctionRef<bool()> should_stop) {
  assert(Merges(input.samples()));
  const auto stop = [&] { return should_stop() || Clock::now() >= deadline; };
  Pending self(input, outputs);
  VersionQueue* queue = nullptr;
  {
    WriterLock lock(&mu_);
    std::unique_ptr<VersionQueue>& slot = queues_[&model];
    if (slot == nullptr) slot = std::make_unique<VersionQueue>();
    queue = slot.get();
    ++queue->users;
    queue->waiting.push_back(&self);
    queue->waiting_rows += input.samples();
    if (!queue->led) {
      queue->led = true;
      self.state = Pending::State::kLeading;
    } else if (queue->delaying != nullptr &&
               queue->waiting_rows >= options_.max_rows) {
      queue->delaying->wake.notify_one();
    }
    WaitableMutex waitable(mu_);
    while (self.state == Pending::State::kQueued ||
           self.state == Pending::State::kTaken) {
      // Only a call still queued may leave; a taken one is being computed.
      if (self.state == Pending::State::kQueued && stop()) {
        queue->waiting.erase(
            std::find(queue->waiting.begin(), queue->waiting.end(), &self));
        queue->waiting_rows -= input.samples();
        Leave(model, *queue);
        return LeftQueue();
      }
      self.wake.wait_until(
          waitable, std::min(deadline, Clock::now() + kStopPollInterval));
    }
    if (self.state == Pending::State::kDone) {
      Leave(model, *queue);
      return self.result;
    }
  }
  return Lead(model, *queue, self, workspace, chunking, stop);
}

absl::Status PredictBatcher::Lead(const InferenceModel<float>& model,
                                  VersionQueue& queue, Pending& self,
                                  PredictWorkspace<float>& workspace,
                                  const PredictOptions& chunking,
                                  absl::FunctionRef<bool()> stop) {
  {
    WriterLock lock(&mu_);
    assert(!queue.waiting.empty() && queue.waiting.front() == &self);
    if (AwaitMoreRows(queue, self, stop)) {
      queue.waiting.pop_front();
      queue.waiting_rows -= self.input.samples();
      HandOnLeadership(queue);
      Leave(model, queue);
      return LeftQueue();
    }
  }
  // Reused per thread: taking a batch allocates nothing once warm.
  thread_local std::vector<Pending*> batch;
  absl::Status own_status;
  for (int round = 1;; ++round) {
    {
      WriterLock lock(&mu_);
      TakeBatch(queue, self, batch);
    }
    const absl::Status status =
        ComputeBatch(model, self, batch, workspace, chunking, stop);
    WriterLock lock(&mu_);
    for (Pending* member : batch) {
      if (member == &self) {
        own_status = status;
        continue;
      }
      member->result = status;
      member->state = Pending::State::kDone;
      member->wake.notify_one();  // under mu_: it cannot leave before this
    }
    batch.clear();
    // Waking a sleeping call to lead costs a scheduling delay (measured
    // ~0.6 ms on a busy 2-core machine, longer than a merged product), so
    // the leader keeps computing what queued meanwhile, for a bounded
    // number of rounds, holding back only its own response.
    if (queue.waiting.empty() || round >= kMaxLeaderRounds || stop()) {
      HandOnLeadership(queue);
      Leave(model, queue);
      return own_status;
    }
  }
}

void PredictBatcher::TakeBatch(VersionQueue& queue, Pending& self,
                               std::vector<Pending*>& batch) {
  int64_t rows = 0;
  while (!queue.waiting.empty() &&
         rows + queue.waiting.front()->input.samples() <= options_.max_rows) {
    Pending* next = queue.waiting.front();
    queue.waiting.pop_front();
    queue.waiting_rows -= next->input.samples();
    rows += next->input.samples();
    if (next != &self) next->state = Pending::State::kTaken;
    batch.push_back(next);
  }
}

absl::Status PredictBatcher::ComputeBatch(const InferenceModel<float>& model,
                                          const Pending& self,
                                          const std::vector<Pending*>& batch,
                                          PredictWorkspace<float>& workspace,
                                          const PredictOptions& chunking,
                                          absl::FunctionRef<bool()> stop) {
  if (batch.size() > 1) {
    merged_products_.fetch_add(1, std::memory_order_relaxed);
    return ComputeMerged(model, batch, workspace, chunking);
  }
  // Alone, a call runs as it would without batching, on its own buffers;
  // only the leader's own call stops when its caller should.
  Pending& only = *batch.front();
  return Predict(model, only.input, only.outputs, workspace,
                 &only == &self ? stop : absl::FunctionRef<bool()>(NeverStop),
                 chunking);
}

absl::Status PredictBatcher::ComputeMerged(const InferenceModel<float>& model,
                                           const std::vector<Pending*>& batch,
                                           PredictWorkspace<float>& workspace,
                                           const PredictOptions& chunking) {
  thread_local std::vector<PredictInput<float>> parts;
  thread_local Vector<float> gathered_inputs;
  thread_local Vector<float> gathered_outputs;
  parts.clear();
  for (const Pending* member : batch) parts.push_back(member->input);
  const PredictInput<float> merged =
      PredictInput<float>::Concatenate(parts, gathered_inputs);
  const int64_t outputs_per_sample = model.output_size();
  if (gathered_outputs.size() < outputs_per_sample * merged.samples()) {
    gathered_outputs.resize(outputs_per_sample * merged.samples());
  }
  const MatrixMap<float> merged_outputs(gathered_outputs.data(),
                                        outputs_per_sample, merged.samples());
  const absl::Status status =
      Predict(model, merged, merged_outputs, workspace, NeverStop, chunking);
  if (status.ok()) {
    // Column-major (outputs x n): each member's columns are one block.
    const float* next = merged_outputs.data();
    for (Pending* member : batch) {
      const size_t values = static_cast<size_t>(member->outputs.size());
      std::memcpy(member->outputs.data(), next, values * sizeof(float));
      next += values;
    }
  }
  parts.clear();
  if ((gathered_inputs.size() + gathered_outputs.size()) *
          static_cast<int64_t>(sizeof(float)) >
      kKeptBufferBytes) {
    gathered_inputs = Vector<float>();
    gathered_outputs = Vector<float>();
  }
  return status;
}

bool PredictBatcher::AwaitMoreRows(VersionQueue& queue, Pending& self,
                                   absl::FunctionRef<bool()> stop) {
  if (options_.max_delay.count() <= 0) return false;
  const Clock::time_point until = Clock::now() + options_.max_delay;
  WaitableMutex waitable(mu_);
  queue.delaying = &self;
  bool stopped = false;
  while (queue.waiting_rows < options_.max_rows) {
    if (stop()) {
      stopped = true;
      break;
    }
    const Clock::time_point now = Clock::now();
    if (now >= until) break;
    self.wake.wait_until(waitable, std::min(until, now + kStopPollInterval));
  }
  queue.delaying = nullptr;
  return stopped;
}

void PredictBatcher::Leave(const InferenceModel<float>& model,
                           VersionQueue& queue) {
  if (--queue.users == 0) queues_.erase(&model);
}

void PredictBatcher::HandOnLeadership(VersionQueue& queue) {
  if (queue.waiting.empty()) {
    queue.led = false;
    return;
  }
  Pending* next = queue.waiting.front();
  next->state = Pending::State::kLeading;
  next->wake.notify_one();
}

}  // namespace bnmlp
