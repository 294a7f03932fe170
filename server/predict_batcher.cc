#include "server/predict_batcher.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <deque>
#include <utility>
#include <vector>

namespace bnmlp {
namespace {

// The leader thread's Predict workspace, alone or merged: one per thread.
PredictWorkspace<float>& LeaderWorkspace() {
  thread_local PredictWorkspace<float> workspace;
  return workspace;
}

}  // namespace

// The calls on one model version. Guarded by PredictBatcher::mu_.
struct PredictBatcher::VersionQueue {
  explicit VersionQueue(const PredictOptions& chunking) : chunking(chunking) {}

  const PredictOptions chunking;  // the same for every call on the version
  std::deque<Call*> waiting;      // queued, in arrival order
  int64_t waiting_rows = 0;       // their samples
  // A thread is computing this queue's calls (Lead): new calls only queue.
  bool computing = false;
  bool delayed = false;  // a delay is due to lead it (max_delay > 0)
  // Waiting calls, plus the leader while computing. (A pending delay is
  // not one: it finds the queue by address when due, if any is left.)
  int users = 0;
};

PredictBatcher::PredictBatcher(PredictBatcherOptions options)
    : options_(options) {
  if (options_.max_delay.count() > 0) {
    delay_thread_ = std::thread([this] { DelayLoop(); });
  }
}

PredictBatcher::~PredictBatcher() {
  if (!delay_thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(delay_mu_);
    stopping_ = true;
  }
  delay_cv_.notify_one();
  delay_thread_.join();
}

int64_t PredictBatcher::MergeBufferBytes(const InferenceModel<float>& model,
                                         int64_t samples) {
  return (model.input_size() + model.output_size()) * samples *
         static_cast<int64_t>(sizeof(float));
}

size_t PredictBatcher::active_versions() const {
  ReaderLock lock(&mu_);
  return queues_.size();
}

size_t PredictBatcher::waiting_calls() const {
  ReaderLock lock(&mu_);
  size_t calls = 0;
  for (const auto& [model, queue] : queues_) calls += queue->waiting.size();
  return calls;
}

void PredictBatcher::Submit(const InferenceModel<float>& model, Call& call,
                            const PredictOptions& chunking) {
  assert(Merges(call.input_.samples()));
  VersionQueue* queue = nullptr;
  {
    WriterLock lock(&mu_);
    std::unique_ptr<VersionQueue>& slot = queues_[&model];
    if (slot == nullptr) {
      // The leader computes alone: the other cores serve the network.
      PredictOptions on_leader = chunking;
      on_leader.calling_thread_only = true;
      slot = std::make_unique<VersionQueue>(on_leader);
    }
    queue = slot.get();
    ++queue->users;
    queue->waiting.push_back(&call);
    queue->waiting_rows += call.input_.samples();
    call.queued_ = true;
    if (queue->computing) return;  // the leader takes it
    if (options_.max_delay.count() > 0 &&
        queue->waiting_rows < options_.max_rows) {
      if (!queue->delayed) StartDelay(model, *queue);
      return;
    }
    queue->computing = true;
    ++queue->users;  // the leader
  }
  Lead(model, *queue);
}

bool PredictBatcher::Withdraw(const InferenceModel<float>& model, Call& call) {
  WriterLock lock(&mu_);
  if (!call.queued_) return false;
  VersionQueue& queue = *queues_.at(&model);
  queue.waiting.erase(
      std::find(queue.waiting.begin(), queue.waiting.end(), &call));
  queue.waiting_rows -= call.input_.samples();
  call.queued_ = false;
  Leave(model, queue);
  return true;
}

void PredictBatcher::Lead(const InferenceModel<float>& model,
                          VersionQueue& queue) {
  // Reused per thread: taking a batch allocates nothing once warm.
  thread_local std::vector<Call*> batch;
  for (;;) {
    {
      WriterLock lock(&mu_);
      if (queue.waiting.empty()) {
        queue.computing = false;
        Leave(model, queue);  // may erase `queue`
        return;
      }
      TakeBatch(queue, batch);
    }
    // The batch's calls keep `model` alive until their Done; the leader's
    // user count keeps `queue`.
    const absl::Status status = ComputeBatch(model, batch, queue.chunking);
    for (Call* member : batch) member->Done(status);
    batch.clear();
  }
}

void PredictBatcher::TakeBatch(VersionQueue& queue, std::vector<Call*>& batch) {
  int64_t rows = 0;
  while (!queue.waiting.empty() &&
         rows + queue.waiting.front()->input_.samples() <= options_.max_rows) {
    Call* next = queue.waiting.front();
    queue.waiting.pop_front();
    queue.waiting_rows -= next->input_.samples();
    rows += next->input_.samples();
    next->queued_ = false;
    --queue.users;  // the leader's count covers it until its Done
    batch.push_back(next);
  }
}

absl::Status PredictBatcher::ComputeBatch(const InferenceModel<float>& model,
                                          const std::vector<Call*>& batch,
                                          const PredictOptions& chunking) {
  if (batch.size() > 1) {
    merged_products_.fetch_add(1, std::memory_order_relaxed);
    return ComputeMerged(model, batch, chunking);
  }
  // Alone, a call runs as it would without batching, on its own buffers.
  PredictWorkspace<float>& workspace = LeaderWorkspace();
  const Call& only = *batch.front();
  const absl::Status status = Predict(model, only.input_, only.outputs_,
                                      workspace, NeverStop, chunking);
  workspace.TrimTo(kKeptWorkspaceBytes);
  return status;
}

absl::Status PredictBatcher::ComputeMerged(const InferenceModel<float>& model,
                                           const std::vector<Call*>& batch,
                                           const PredictOptions& chunking) {
  PredictWorkspace<float>& workspace = LeaderWorkspace();
  thread_local std::vector<PredictInput<float>> parts;
  thread_local Vector<float> gathered_inputs;
  thread_local Vector<float> gathered_outputs;
  parts.clear();
  for (const Call* member : batch) parts.push_back(member->input_);
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
    for (Call* member : batch) {
      const size_t values = static_cast<size_t>(member->outputs_.size());
      std::memcpy(member->outputs_.data(), next, values * sizeof(float));
      next += values;
    }
  }
  parts.clear();
  const int64_t gathered_bytes =
      (gathered_inputs.size() + gathered_outputs.size()) *
      static_cast<int64_t>(sizeof(float));
  if (gathered_bytes > kKeptWorkspaceBytes) {
    gathered_inputs = Vector<float>();
    gathered_outputs = Vector<float>();
  }
  workspace.TrimTo(kKeptWorkspaceBytes);
  return status;
}

void PredictBatcher::Leave(const InferenceModel<float>& model,
                           VersionQueue& queue) {
  if (--queue.users == 0) queues_.erase(&model);
}

void PredictBatcher::StartDelay(const InferenceModel<float>& model,
                                VersionQueue& queue) {
  queue.delayed = true;
  {
    std::lock_guard<std::mutex> lock(delay_mu_);
    // Every delay is max_delay long, so appending keeps the due order.
    delays_.push_back({Clock::now() + options_.max_delay, &model});
  }
  delay_cv_.notify_one();
}

void PredictBatcher::DelayLoop() {
  std::unique_lock<std::mutex> lock(delay_mu_);
  while (!stopping_) {
    if (delays_.empty()) {
      delay_cv_.wait(lock);
      continue;
    }
    const Delay next = delays_.front();
    if (Clock::now() < next.due) {
      delay_cv_.wait_until(lock, next.due);
      continue;
    }
    delays_.erase(delays_.begin());
    lock.unlock();
    VersionQueue* queue = nullptr;
    {
      WriterLock queue_lock(&mu_);
      // Its calls may all be gone (withdrawn), and with them the queue.
      // A queue found at that address may be a newer one (the version
      // freed, another allocated there): leading it early is harmless,
      // and its waiting calls keep that model alive.
      auto found = queues_.find(next.model);
      if (found != queues_.end()) {
        found->second->delayed = false;
        if (!found->second->computing && !found->second->waiting.empty()) {
          queue = found->second.get();
          queue->computing = true;
          ++queue->users;  // the leader
        }
      }
    }
    if (queue != nullptr) Lead(*next.model, *queue);
    lock.lock();
  }
}

}  // namespace bnmlp
