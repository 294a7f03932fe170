#include "tests/server/server_test_util.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"
#include "gtest/gtest.h"

namespace bnmlp::testing {
namespace {

[[noreturn]] void Die(absl::string_view why) {
  std::fprintf(stderr, "FATAL in test helper: %.*s\n",
               static_cast<int>(why.size()), why.data());
  std::fflush(stderr);
  std::abort();
}

void DieUnlessOk(const grpc::Status& status, absl::string_view rpc) {
  if (status.ok()) return;
  Die(absl::StrCat(rpc, " failed: code ", status.error_code(), ": ",
                   status.error_message()));
}

}  // namespace

ServerOptions TestServerOptions() {
  ServerOptions options;
  options.listen_address = "127.0.0.1:0";
  options.progress_interval = absl::ZeroDuration();
  return options;
}

absl::StatusOr<std::unique_ptr<InProcessServer>> InProcessServer::Start(
    const ServerOptions& options) {
  absl::StatusOr<std::unique_ptr<BnmlpServer>> server =
      BnmlpServer::Start(options);
  if (!server.ok()) return server.status();
  auto in_process = std::make_unique<InProcessServer>();
  in_process->server_ = *std::move(server);
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(-1);  // unlimited: tests probe limits
  arguments.SetMaxSendMessageSize(-1);
  in_process->channel_ = grpc::CreateCustomChannel(
      in_process->address(), grpc::InsecureChannelCredentials(), arguments);
  in_process->stub_ = v1::BnMlpService::NewStub(in_process->channel_);
  return in_process;
}

std::string InProcessServer::address() const {
  return absl::StrCat("127.0.0.1:", server_->port());
}

std::unique_ptr<grpc::ClientContext> Context(int deadline_seconds) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::seconds(deadline_seconds));
  return context;
}

v1::Tensor MakeTensor(std::vector<int64_t> shape, std::vector<float> values) {
  v1::Tensor tensor;
  tensor.mutable_shape()->Add(shape.begin(), shape.end());
  tensor.mutable_values()->Add(values.begin(), values.end());
  return tensor;
}

ToyData TwoBlobs(int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> noise(0.0f, 0.5f);
  ToyData data;
  std::vector<float> values;
  for (int i = 0; i < n; ++i) {
    const int label = i % 2;
    const float center = label == 0 ? -2.0f : 2.0f;
    values.push_back(center + noise(rng));
    values.push_back(center + noise(rng));
    data.labels.push_back(label);
  }
  data.x = MakeTensor({n, 2}, std::move(values));
  return data;
}

v1::CreateModelRequest ClassifierRequest(const std::string& name,
                                         std::vector<int64_t> layer_sizes,
                                         uint64_t seed) {
  v1::CreateModelRequest request;
  request.set_name(name);
  request.mutable_layer_sizes()->Add(layer_sizes.begin(), layer_sizes.end());
  request.set_seed(seed);
  return request;
}

v1::TrainRequest TrainRequestFor(const std::string& name, const ToyData& data,
                                 int epochs, int batch_size) {
  v1::TrainRequest request;
  request.set_name(name);
  *request.mutable_x() = data.x;
  request.mutable_labels()->Add(data.labels.begin(), data.labels.end());
  request.set_epochs(epochs);
  request.set_batch_size(batch_size);
  request.set_learning_rate(0.1f);
  request.set_shuffle_seed(3);
  return request;
}

const v1::TrainProgress& FiguresOf(const v1::TrainResponse& message) {
  switch (message.event_case()) {
    case v1::TrainResponse::kEpochEnd:
      return message.epoch_end();
    case v1::TrainResponse::kDone:
      return message.done();
    default:
      return message.progress();
  }
}

int TrainResult::Count(v1::TrainResponse::EventCase kind) const {
  int count = 0;
  for (const v1::TrainResponse& message : messages) {
    count += message.event_case() == kind;
  }
  return count;
}

const v1::TrainProgress& TrainResult::LastFigures() const {
  if (messages.empty()) Die("LastFigures: the Train call sent no message");
  return FiguresOf(messages.back());
}

TrainResult RunTrain(v1::BnMlpService::Stub& stub,
                     const v1::TrainRequest& request) {
  TrainResult result;
  std::unique_ptr<grpc::ClientContext> context = Context();
  std::unique_ptr<grpc::ClientReader<v1::TrainResponse>> reader =
      stub.Train(context.get(), request);
  v1::TrainResponse message;
  while (reader->Read(&message)) result.messages.push_back(message);
  result.status = reader->Finish();
  return result;
}

BackgroundTrain::BackgroundTrain(v1::BnMlpService::Stub& stub,
                                 v1::TrainRequest request)
    : context_(Context(120)),
      thread_([this, &stub, request = std::move(request)] {
        Run(stub, request);
      }) {}

BackgroundTrain::~BackgroundTrain() {
  Cancel();
  if (thread_.joinable()) thread_.join();
}

void BackgroundTrain::Run(v1::BnMlpService::Stub& stub,
                          const v1::TrainRequest& request) {
  std::unique_ptr<grpc::ClientReader<v1::TrainResponse>> reader =
      stub.Train(context_.get(), request);
  v1::TrainResponse message;
  while (reader->Read(&message)) {
    std::lock_guard<std::mutex> lock(mu_);
    messages_.push_back(message);
    if (message.has_epoch_end()) ++epoch_ends_;
    changed_.notify_all();
  }
  grpc::Status status = reader->Finish();
  std::lock_guard<std::mutex> lock(mu_);
  status_ = std::move(status);
  finished_ = true;
  changed_.notify_all();
}

bool BackgroundTrain::WaitForEpochEnds(int count) {
  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait(lock, [&] { return epoch_ends_ >= count || finished_; });
  return epoch_ends_ >= count;
}

grpc::Status BackgroundTrain::Join() {
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(mu_);
  return status_;
}

std::vector<v1::TrainResponse> BackgroundTrain::messages() {
  std::lock_guard<std::mutex> lock(mu_);
  return messages_;
}

v1::ModelInfo CreateOrDie(v1::BnMlpService::Stub& stub,
                          const v1::CreateModelRequest& request) {
  v1::ModelInfo info;
  const grpc::Status status = stub.CreateModel(Context().get(), request, &info);
  DieUnlessOk(status, "CreateModel");
  return info;
}

v1::GetParametersResponse ParametersOrDie(v1::BnMlpService::Stub& stub,
                                          const std::string& name) {
  v1::GetParametersRequest request;
  request.set_name(name);
  v1::GetParametersResponse response;
  const grpc::Status status =
      stub.GetParameters(Context().get(), request, &response);
  DieUnlessOk(status, "GetParameters");
  return response;
}

v1::ModelInfo ModelOrDie(v1::BnMlpService::Stub& stub,
                         const std::string& name) {
  v1::GetModelRequest request;
  request.set_name(name);
  v1::ModelInfo info;
  const grpc::Status status = stub.GetModel(Context().get(), request, &info);
  DieUnlessOk(status, "GetModel");
  return info;
}

}  // namespace bnmlp::testing
