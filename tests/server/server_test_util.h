// Shared helpers for the server tests: an in-process server with a real
// stub on a loopback port, toy data sets and request builders.
#ifndef BNMLP_TESTS_SERVER_SERVER_TEST_UTIL_H_
#define BNMLP_TESTS_SERVER_SERVER_TEST_UTIL_H_

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "bnmlp/v1/bnmlp.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "server/bnmlp_server.h"

namespace bnmlp::testing {

// 127.0.0.1:0, per-batch progress on every batch (tests need no waiting).
ServerOptions TestServerOptions();

// A BnmlpServer inside the test process, reached through a real channel.
class InProcessServer {
 public:
  static absl::StatusOr<std::unique_ptr<InProcessServer>> Start(
      const ServerOptions& options = TestServerOptions());

  v1::BnMlpService::Stub& stub() { return *stub_; }
  std::shared_ptr<grpc::Channel> channel() { return channel_; }
  std::string address() const;
  BnmlpServer& server() { return *server_; }

 private:
  std::unique_ptr<BnmlpServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::BnMlpService::Stub> stub_;
};

// A client context with a deadline, so a hung call fails the test instead of
// hanging it.
std::unique_ptr<grpc::ClientContext> Context(int deadline_seconds = 60);

v1::Tensor MakeTensor(std::vector<int64_t> shape, std::vector<float> values);

// Two well separated 2-D blobs: class 0 around (-2, -2), class 1 around
// (2, 2); deterministic for a seed.
struct ToyData {
  v1::Tensor x;  // [n, 2]
  std::vector<int32_t> labels;
};
ToyData TwoBlobs(int n, uint64_t seed);

v1::CreateModelRequest ClassifierRequest(const std::string& name,
                                         std::vector<int64_t> layer_sizes,
                                         uint64_t seed = 7);
v1::TrainRequest TrainRequestFor(const std::string& name, const ToyData& data,
                                 int epochs, int batch_size);

struct TrainResult {
  grpc::Status status;
  std::vector<v1::TrainResponse> messages;

  // How many messages carry `kind` (kProgress, kEpochEnd, kDone).
  int Count(v1::TrainResponse::EventCase kind) const;
  // The figures of the last message, whatever its kind.
  const v1::TrainProgress& LastFigures() const;
};
// The figures a Train message carries, whatever its kind.
const v1::TrainProgress& FiguresOf(const v1::TrainResponse& message);
// Runs a whole Train call, collecting every message.
TrainResult RunTrain(v1::BnMlpService::Stub& stub,
                     const v1::TrainRequest& request);

// A Train call running on its own thread, collecting progress, for tests
// that act while training runs. The destructor cancels and joins.
class BackgroundTrain {
 public:
  BackgroundTrain(v1::BnMlpService::Stub& stub, v1::TrainRequest request);
  ~BackgroundTrain();

  // Blocks until `count` epoch-end messages arrived (true) or the call ended
  // first (false).
  bool WaitForEpochEnds(int count);
  // Cancels the call from the client side.
  void Cancel() { context_->TryCancel(); }
  // Waits for the call to end and returns its status.
  grpc::Status Join();
  std::vector<v1::TrainResponse> messages();

 private:
  void Run(v1::BnMlpService::Stub& stub, const v1::TrainRequest& request);

  std::unique_ptr<grpc::ClientContext> context_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::vector<v1::TrainResponse> messages_;  // guarded by mu_
  int epoch_ends_ = 0;                       // guarded by mu_
  bool finished_ = false;                    // guarded by mu_
  grpc::Status status_;                      // written before finished_
  std::thread thread_;
};

// Unary helpers for calls that must succeed: on a non-OK status they print
// it and abort the test binary (ctest runs each test in its own process),
// so a test never goes on with a default-constructed response.
v1::ModelInfo CreateOrDie(v1::BnMlpService::Stub& stub,
                          const v1::CreateModelRequest& request);
v1::GetParametersResponse ParametersOrDie(v1::BnMlpService::Stub& stub,
                                          const std::string& name);
v1::ModelInfo ModelOrDie(v1::BnMlpService::Stub& stub, const std::string& name);

// Matches a grpc::Status with `code` whose message contains `substring`.
MATCHER_P2(StatusIs, code, substring,
           "has code " + ::testing::PrintToString(code) +
               " and a message containing \"" + std::string(substring) + "\"") {
  *result_listener << "status " << arg.error_code() << ": \""
                   << arg.error_message() << "\"";
  return arg.error_code() == code &&
         arg.error_message().find(substring) != std::string::npos;
}

}  // namespace bnmlp::testing

#endif  // BNMLP_TESTS_SERVER_SERVER_TEST_UTIL_H_
