// ThreadSanitizer defaults, compiled into every bnmlp binary that may run
// under TSan (TSan calls these hooks at startup; elsewhere they are unused).
// TSAN_OPTIONS in the environment adds to them.
//
// Why: Debian's gRPC, protobuf, Abseil, OpenBLAS and libstdc++ are not built
// with TSan. Their internal synchronization (atomics, futexes, their own
// mutexes) is invisible to it, so the memory they hand between threads
// would look racy wherever TSan sees an access: in the interceptors
// (malloc, memcpy, epoll_wait, ...) those libraries call.
// ignore_noninstrumented_modules makes TSan skip exactly those interceptor
// calls. For the same reason server code uses AnnotatedMutex rather than a
// bare absl::Mutex: see common/annotated_mutex.h.
extern "C" const char* __tsan_default_options() {
  return "ignore_noninstrumented_modules=1";
}

// gRPC's header-only call machinery (CallOpSet in call_op_set.h) is
// compiled into our binaries and so instrumented, but the library hands a
// call's CallOpSet between threads through uninstrumented queues: reports
// with a CallOpSet frame are those hand-offs. Our handlers never run inside
// a CallOpSet (it only sends and receives their messages), so races in our
// code are still reported; a deliberate race in a handler was checked to
// be caught with these settings.
//
// The same holds for the callback API's header-only parts (Predict's,
// server/predict_service.cc): a callback tag is Set on the thread that
// finishes a call and Run on a gRPC thread (CallbackWithSuccessTag), and
// the reactor's OnDone is called on a gRPC thread other than the one that
// constructed it (ServerCallbackUnaryImpl::CallOnDone, a virtual call: a
// "race on vptr"), both through uninstrumented queues; and a reactor
// finished before gRPC has bound it (a merged Predict answered by its
// leader, a large one by its thread, while its handler is returning) keeps
// the status in a backlog guarded by gRPC's own mutex, an absl::Mutex TSan
// cannot see (ServerUnaryReactor::InternalBindCall reads it). Our handlers
// never run inside any of these; what OnDone does (delete the call) is
// ordered after the call's completion by an atomic of our own
// (PredictCall::completed_).
//
// gRPC's own background threads (the global timer, executors) are started
// by libgpr and may still be finishing when a short-lived process such as
// the CLI exits: "thread leak" reports for threads created inside
// grpc_core::Thread are gRPC's, not ours.
extern "C" const char* __tsan_default_suppressions() {
  return "race:grpc::internal::CallOpSet<\n"
         "race:grpc::internal::CallbackWithSuccessTag::\n"
         "race:ServerCallbackUnaryImpl::CallOnDone\n"
         "race:grpc::ServerUnaryReactor::InternalBindCall\n"
         "thread:grpc_core::Thread::Thread\n";
}
