// One Train call's training run: trains a private copy of the model's
// published version, publishes a new version at every epoch end, streams
// progress events, and ends the run with the status the client gets.
#ifndef BNMLP_SERVER_TRAINING_SESSION_H_
#define BNMLP_SERVER_TRAINING_SESSION_H_

#include <functional>

#include "absl/status/status.h"
#include "bnmlp/v1/bnmlp.pb.h"
#include "core/trainer.h"
#include "server/training_run.h"

namespace bnmlp {

// Where a session's events go, and how it learns that the client is gone.
struct TrainingStream {
  // Sends one event; false if the client stopped reading (the run is then
  // cancelled).
  std::function<bool(const v1::TrainResponse&)> send;
  // True once the client cancelled the call or its deadline passed.
  std::function<bool()> client_cancelled;
};

// Runs `run` to its end on the calling thread, on `inputs` (validated for
// the run's model). Returns OK after sending the final `done` event; otherwise
// the status the call ends with, which names why training stopped (the client
// cancelled, the model was deleted, the server is shutting down: UNAVAILABLE)
// and the version the model keeps. The run is finished either way.
//
// `resume`: continue from the start version's checkpoint (TrainRequest's
// resume); FAILED_PRECONDITION if that version has none.
absl::Status RunTrainingSession(TrainingRun& run,
                                const TrainingInputs<float>& inputs,
                                const TrainingStream& stream,
                                bool resume = false);

}  // namespace bnmlp

#endif  // BNMLP_SERVER_TRAINING_SESSION_H_
