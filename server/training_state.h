// Where a model stands with training: shared by the registry, which tracks
// it, and the model store, which keeps it across restarts.
#ifndef BNMLP_SERVER_TRAINING_STATE_H_
#define BNMLP_SERVER_TRAINING_STATE_H_

namespace bnmlp {

enum class TrainingState {
  kUntrained,  // never trained: the seeded initialization, or an import
  kTraining,   // a TrainingRun is active
  kTrained,    // the last run finished every epoch
  kCancelled,  // the last run was cancelled; the model kept its last version
  kFailed,     // the last run failed; the model kept its last version
  // A run was active when the server stopped without ending it (a crash):
  // the model came back from the store with its last durable version.
  kInterrupted,
};

}  // namespace bnmlp

#endif  // BNMLP_SERVER_TRAINING_STATE_H_
