// SIGINT and SIGTERM as a request for graceful shutdown.
#ifndef BNMLP_SERVER_SHUTDOWN_SIGNAL_H_
#define BNMLP_SERVER_SHUTDOWN_SIGNAL_H_

#include "absl/status/status.h"

namespace bnmlp {

// Call once, first thing in main(): installs handlers for SIGINT and SIGTERM
// (so neither kills the process any more) and blocks both in the calling
// thread, so every thread started afterwards (gRPC's, the compute pool's)
// inherits the block and only WaitForShutdownSignal's thread receives them.
// Threads started before main (OpenBLAS's) may still catch one; the handler
// works on any thread. FAILED_PRECONDITION if called twice.
absl::Status InstallShutdownSignalHandlers();

// Unblocks SIGINT and SIGTERM in the calling thread (the one that installed
// the handlers) and blocks until one of them arrives, returning its number.
// A signal that arrived earlier is returned at once.
int WaitForShutdownSignal();

}  // namespace bnmlp

#endif  // BNMLP_SERVER_SHUTDOWN_SIGNAL_H_
