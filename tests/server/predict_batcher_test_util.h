// What the PredictBatcher tests share: calls that record their Done, a
// leader held busy on purpose, and the model they compute with.
#ifndef BNMLP_TESTS_SERVER_PREDICT_BATCHER_TEST_UTIL_H_
#define BNMLP_TESTS_SERVER_PREDICT_BATCHER_TEST_UTIL_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <future>
#include <limits>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "core/compute_pool.h"
#include "core/inference_model.h"
#include "core/predict.h"
#include "gtest/gtest.h"
#include "server/predict_batcher.h"

namespace bnmlp::batcher_testing {

inline constexpr float kTolerance = 1e-5f;
// The bound on every wait for an event (never a timing assertion: a
// correct batcher is far faster, even under the sanitizers).
inline constexpr std::chrono::seconds kEventTimeout{30};

// A 784-256-128-10 classifier (big enough for merged products to use the
// compute pool); `seed` tells versions apart.
std::shared_ptr<const InferenceModel<float>> MakeModel(uint64_t seed,
                                                       ComputePool& pool);

// One call's samples, its expected outputs (the model's, computed alone)
// and the buffer the batcher writes into (NaN until written).
struct CallCase {
  CallCase(const InferenceModel<float>& model, int64_t rows, unsigned seed)
      : model(&model),
        expected(model.output_size(), rows),
        outputs(
            Matrix<float>::Constant(model.output_size(), rows,
                                    std::numeric_limits<float>::quiet_NaN())) {
    std::srand(seed);
    x = Matrix<float>::Random(model.input_size(), rows);
    PredictWorkspace<float> workspace;
    EXPECT_TRUE(
        Predict(model, Input(),
                MatrixMap<float>(expected.data(), expected.rows(), rows),
                workspace)
            .ok());
  }
  PredictInput<float> Input() const {
    return *ValidatePredictInput(
        *model, ConstMatrixMap<float>(x.data(), x.rows(), x.cols()));
  }
  MatrixMap<float> OutputMap() {
    return MatrixMap<float>(outputs.data(), outputs.rows(), outputs.cols());
  }
  float MaxError() const { return (outputs - expected).cwiseAbs().maxCoeff(); }
  bool OutputsUntouched() const { return outputs.array().isNaN().all(); }

  const InferenceModel<float>* model;
  Matrix<float> x;
  Matrix<float> expected;
  Matrix<float> outputs;
};

class TestCall;

// The order in which Done ran over several calls.
class DoneLog {
 public:
  void Record(const TestCall* call) {
    std::lock_guard<std::mutex> lock(mu_);
    order_.push_back(call);
  }
  std::vector<const TestCall*> order() const {
    std::lock_guard<std::mutex> lock(mu_);
    return order_;
  }

 private:
  mutable std::mutex mu_;  // held to append or copy only
  std::vector<const TestCall*> order_;
};

// A CallCase submitted as a PredictBatcher::Call: records how often Done
// ran, its status and thread; optionally blocks in Done (after recording)
// to hold its leader busy. Nothing touches the call after Done's record,
// so a waiter may destroy it once AwaitDone returned (unless it holds).
class TestCall : public CallCase, public PredictBatcher::Call {
 public:
  TestCall(const InferenceModel<float>& model, int64_t rows, unsigned seed,
           DoneLog* log = nullptr)
      : CallCase(model, rows, seed),
        PredictBatcher::Call(Input(), OutputMap()),
        log_(log) {}

  // Done blocks until `release` is ready.
  void HoldDoneUntil(std::shared_future<void> release) {
    hold_ = std::move(release);
  }

  void Done(absl::Status status) override {
    std::shared_future<void> hold;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++done_count_;
      status_ = std::move(status);
      done_thread_ = std::this_thread::get_id();
      if (log_ != nullptr) log_->Record(this);
      hold = hold_;
      done_cv_.notify_all();
    }
    if (hold.valid()) hold.wait();
  }

  // Waits (bounded) until Done has run (or started holding).
  bool AwaitDone() {
    std::unique_lock<std::mutex> lock(mu_);
    return done_cv_.wait_for(lock, kEventTimeout,
                             [this] { return done_count_ > 0; });
  }
  int done_count() const {
    std::lock_guard<std::mutex> lock(mu_);
    return done_count_;
  }
  absl::Status status() const {
    std::lock_guard<std::mutex> lock(mu_);
    return status_;
  }
  std::thread::id done_thread() const {
    std::lock_guard<std::mutex> lock(mu_);
    return done_thread_;
  }

 private:
  DoneLog* const log_;
  std::shared_future<void> hold_;  // set before Submit
  mutable std::mutex mu_;          // held to record or read Done's facts
  std::condition_variable done_cv_;
  int done_count_ = 0;
  absl::Status status_ = absl::UnknownError("Done never ran");
  std::thread::id done_thread_;
};

// Whether Done ran exactly once, with OK, after the batcher wrote the
// call's own outputs (its model's answer alone, within kTolerance).
::testing::AssertionResult ComputedOnceCorrectly(const TestCall& call);

// The batcher's Submit and Withdraw for `call` on its model.
void Submit(PredictBatcher& batcher, TestCall& call);
bool Withdraw(PredictBatcher& batcher, TestCall& call);

// Holds the leader of `first`'s model busy, deterministically: a thread
// submits `first` to the idle version (so it leads, inside Submit) and
// `first`'s Done blocks until Finish; calls submitted meanwhile only queue.
// Declare it after the calls it may compute (it finishes on destruction).
class BusyLeader {
 public:
  BusyLeader(PredictBatcher& batcher, TestCall& first) : first_(first) {
    first.HoldDoneUntil(release_.get_future().share());
    thread_ = std::thread([&batcher, &first] { Submit(batcher, first); });
    leader_ = thread_.get_id();
  }
  ~BusyLeader() { Finish(); }
  BusyLeader(const BusyLeader&) = delete;
  BusyLeader& operator=(const BusyLeader&) = delete;

  // Waits (bounded) until the leader sits in `first`'s Done.
  bool AwaitBusy() { return first_.AwaitDone(); }
  // Lets the leader go on and waits until its Submit returned: it computed
  // every call queued meanwhile.
  void Finish() {
    if (!released_) {
      released_ = true;
      release_.set_value();
    }
    if (thread_.joinable()) thread_.join();
  }
  std::thread::id leader() const { return leader_; }

 private:
  TestCall& first_;
  std::promise<void> release_;
  bool released_ = false;
  std::thread thread_;
  std::thread::id leader_;
};

}  // namespace bnmlp::batcher_testing

#endif  // BNMLP_TESTS_SERVER_PREDICT_BATCHER_TEST_UTIL_H_
