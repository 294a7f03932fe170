#include "server/predict_batcher.h"

#include <algorithm>
#include <cassert>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <utility>
#include <vector>

namespace bnmlp {
namespace {

absl::Status LeftQueue() {
  return absl::CancelledError(
      "the call stopped while queued to be merged with other Predicts");
}

}  // namespace

// One call, on its caller's stack for the whole of Run. `input` and
// `outputs` are set before it is queued; the leader that takes the call
// writes `outputs` and `result`, then signals kDone.
//
// Two locks, so that waking a call never makes it queue for the batcher's
// mutex: `state` is the queue's view (guarded by PredictBatcher::mu_), and
// `signalled` is what the call has been told (guarded by signal_mu; a
// waiting call sleeps on signal_cv). A call leaves Run only after it was
// told kDone or kLeading, or after it took itself out of the queue under
// mu_ while still kQueued; so whoever signals it finds it alive. Lock
// order: mu_, then signal_mu.
struct PredictBatcher::Pending {
  using State = CallState;

  Pending(const PredictInput<float>& input, MatrixMap<float> outputs)
      : input(input), outputs(outputs) {}

  const PredictInput<float> input;
  MatrixMap<float> outputs;
  State state = State::kQueued;  // guarded by PredictBatcher::mu_
  absl::Status result;           // written before kDone is signalled

  std::mutex signal_mu;  // held to set or read the two fields below
  std::condition_variable signal_cv;
  State signalled = State::kQueued;  // kLeading or kDone once told
  bool more_rows = false;            // a delaying leader's queue filled up

  // Tells the call it is done or leads now. Notifies under signal_mu: the
  // call cannot return (and destroy signal_cv) before.
  void Signal(State to) {
    std::lock_guard<std::mutex> lock(signal_mu);
    signalled = to;
    signal_cv.notify_one();
  }
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
  bool leads = false;
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
      self.state = CallState::kLeading;
      leads = true;
    } else if (queue->delaying != nullptr &&
               queue->waiting_rows >= options_.max_rows) {
      std::lock_guard<std::mutex> delaying_lock(queue->delaying->signal_mu);
      queue->delaying->more_rows = true;
      queue->delaying->signal_cv.notify_one();
    }
  }
  if (!leads) {
    switch (AwaitSignal(model, *queue, self, deadline, stop)) {
      case CallState::kDone:
        return self.result;  // the leader counted this call out
      case CallState::kLeading:
        break;
      default:
        return LeftQueue();
    }
  }
  return Lead(model, *queue, self, workspace, chunking, stop);
}

PredictBatcher::CallState PredictBatcher::AwaitSignal(
    const InferenceModel<float>& model, VersionQueue& queue, Pending& self,
    Clock::time_point deadline, absl::FunctionRef<bool()> stop) {
  std::unique_lock<std::mutex> lock(self.signal_mu);
  while (self.signalled == CallState::kQueued) {
    if (stop()) {
      lock.unlock();
      {
        WriterLock queue_lock(&mu_);
        // Only a call still queued may leave; a taken one is being
        // computed, a promoted one is about to be told to lead.
        if (self.state == CallState::kQueued) {
          queue.waiting.erase(
              std::find(queue.waiting.begin(), queue.waiting.end(), &self));
          queue.waiting_rows -= self.input.samples();
          Leave(model, queue);
          return CallState::kQueued;
        }
      }
      lock.lock();
      while (self.signalled == CallState::kQueued) {
        self.signal_cv.wait(lock);
      }
      break;
    }
    self.signal_cv.wait_until(
        lock, std::min(deadline, Clock::now() + kStopPollInterval));
  }
  return self.signalled;
}

absl::Status PredictBatcher::Lead(const InferenceModel<float>& model,
                                  VersionQueue& queue, Pending& self,
                                  PredictWorkspace<float>& workspace,
                                  const PredictOptions& chunking,
                                  absl::FunctionRef<bool()> stop) {
  if (AwaitMoreRows(queue, self, stop)) {
    Pending* next = nullptr;
    {
      WriterLock lock(&mu_);
      assert(!queue.waiting.empty() && queue.waiting.front() == &self);
      queue.waiting.pop_front();
      queue.waiting_rows -= self.input.samples();
      next = HandOnLeadership(queue);
      Leave(model, queue);
    }
    if (next != nullptr) next->Signal(CallState::kLeading);
    return LeftQueue();
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
    bool again = false;
    Pending* next = nullptr;
    {
      WriterLock lock(&mu_);
      for (Pending* member : batch) {
        if (member == &self) continue;
        member->state = CallState::kDone;
        --queue.users;  // it returns without the batcher's mutex
      }
      // Waking a sleeping call to lead costs a scheduling delay (measured
      // ~0.5 ms on a busy 2-core machine, longer than a merged product),
      // so the leader keeps computing what queued meanwhile, for a bounded
      // number of rounds, holding back only its own response.
      again = !queue.waiting.empty() && round < kMaxLeaderRounds && !stop();
      if (!again) {
        next = HandOnLeadership(queue);
        Leave(model, queue);  // may erase `queue`: not used below
      }
    }
    // Woken outside mu_, so that they do not queue for it.
    for (Pending* member : batch) {
      if (member == &self) {
        own_status = status;
        continue;
      }
      member->result = status;
      member->Signal(CallState::kDone);
    }
    batch.clear();
    if (next != nullptr) next->Signal(CallState::kLeading);
    if (!again) return own_status;
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
    if (next != &self) next->state = CallState::kTaken;
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
  {
    WriterLock lock(&mu_);
    queue.delaying = &self;
  }
  bool stopped = false;
  for (;;) {
    {
      WriterLock lock(&mu_);
      if (queue.waiting_rows >= options_.max_rows) break;
    }
    if (stop()) {
      stopped = true;
      break;
    }
    const Clock::time_point now = Clock::now();
    if (now >= until) break;
    std::unique_lock<std::mutex> lock(self.signal_mu);
    if (!self.more_rows) {
      self.signal_cv.wait_until(lock, std::min(until, now + kStopPollInterval));
    }
    self.more_rows = false;
  }
  WriterLock lock(&mu_);
  queue.delaying = nullptr;
  return stopped;
}

void PredictBatcher::Leave(const InferenceModel<float>& model,
                           VersionQueue& queue) {
  if (--queue.users == 0) queues_.erase(&model);
}

PredictBatcher::Pending* PredictBatcher::HandOnLeadership(VersionQueue& queue) {
  if (queue.waiting.empty()) {
    queue.led = false;
    return nullptr;
  }
  Pending* next = queue.waiting.front();
  next->state = CallState::kLeading;
  return next;
}

}  // namespace bnmlp
