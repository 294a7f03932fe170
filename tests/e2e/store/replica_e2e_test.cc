// One writer and two read-only replicas on one --model_dir, all real
// processes: a model trained on the writer is served by both replicas with
// the writer's outputs, Predicts spread over the replicas (the CLI's
// round-robin, and direct calls) never see a half-written version while
// the writer keeps publishing, and a delete on the writer disappears from
// both. Bounded: every wait has a deadline; about 10 s in all.

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bnmlp/v1/bnmlp.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "tests/data/temp_files.h"
#include "tests/e2e/support/run_command.h"
#include "tests/e2e/support/server_process.h"

namespace bnmlp::testing {
namespace {

constexpr double kPollSeconds = 0.25;

std::unique_ptr<grpc::ClientContext> Deadline(int seconds = 10) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::seconds(seconds));
  return context;
}

std::unique_ptr<v1::BnMlpService::Stub> StubFor(const ServerProcess& server) {
  return v1::BnMlpService::NewStub(grpc::CreateChannel(
      server.address(), grpc::InsecureChannelCredentials()));
}

struct Data {
  v1::Tensor x;
  std::vector<int32_t> labels;
};
Data Blobs(int n) {
  std::mt19937 rng(3);
  std::normal_distribution<float> noise(0, 0.7f);
  Data d;
  d.x.add_shape(n);
  d.x.add_shape(2);
  for (int i = 0; i < n; ++i) {
    d.labels.push_back(i % 2);
    d.x.add_values((i % 2) * 2 - 1 + noise(rng));
    d.x.add_values((i % 2) * 2 - 1 + noise(rng));
  }
  return d;
}

grpc::Status Predict(v1::BnMlpService::Stub& stub, const v1::Tensor& x,
                     int64_t version, v1::PredictResponse* response) {
  v1::PredictRequest request;
  request.set_name("m");
  request.set_version(version);
  *request.mutable_x() = x;
  return stub.Predict(Deadline().get(), request, response);
}

// Waits (bounded) until `done` holds on the replica; returns the seconds.
template <typename Done>
double WaitFor(Done done, double limit_seconds) {
  const absl::Time start = absl::Now();
  while (!done() && absl::Now() - start < absl::Seconds(limit_seconds)) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  return absl::ToDoubleSeconds(absl::Now() - start);
}

TEST(ReplicaE2eTest, ReplicasServeWhatTheWriterPublishes) {
  const data::test_files::TempDir temp_dir;
  const std::string dir = temp_dir.path();
  auto writer = ServerProcess::Start(
      {absl::StrCat("--model_dir=", dir), "--keep_versions=1000"});
  ASSERT_TRUE(writer.ok()) << writer.status();
  std::vector<std::unique_ptr<ServerProcess>> replicas;
  for (int i = 0; i < 2; ++i) {
    auto replica =
        ServerProcess::Start({absl::StrCat("--model_dir=", dir), "--read_only",
                              absl::StrCat("--poll_seconds=", kPollSeconds)});
    ASSERT_TRUE(replica.ok()) << replica.status();
    replicas.push_back(*std::move(replica));
  }
  auto w = StubFor(**writer);
  auto r0 = StubFor(*replicas[0]);
  auto r1 = StubFor(*replicas[1]);

  v1::CreateModelRequest create;
  create.set_name("m");
  for (int64_t size : {2, 16, 2}) create.add_layer_sizes(size);
  v1::ModelInfo info;
  ASSERT_TRUE(w->CreateModel(Deadline().get(), create, &info).ok());
  EXPECT_EQ(r0->CreateModel(Deadline().get(), create, &info).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  // The writer publishes a version every few ms while the replicas answer.
  const Data data = Blobs(512);
  v1::TrainRequest train;
  train.set_name("m");
  *train.mutable_x() = data.x;
  train.mutable_labels()->Add(data.labels.begin(), data.labels.end());
  train.set_epochs(60);
  train.set_batch_size(32);
  std::atomic<bool> trained{false};
  std::thread trainer([&] {
    grpc::ClientContext context;
    auto reader = w->Train(&context, train);
    v1::TrainResponse response;
    while (reader->Read(&response)) {
    }
    EXPECT_TRUE(reader->Finish().ok());
    trained = true;
  });
  std::map<int64_t, std::string> answered;  // version -> outputs, replicas
  int predicts = 0;
  const std::string csv = dir + "-rows.csv";
  {
    std::ofstream rows(csv);
    for (int i = 0; i < 20; ++i) {
      rows << data.x.values(2 * i) << "," << data.x.values(2 * i + 1) << ","
           << data.labels[i] << "\n";
    }
  }
  // The CLI's round-robin over both replicas; while training runs a replica
  // may not hold the model yet (NOT_FOUND).
  auto run_cli = [&]() -> absl::StatusOr<CommandResult> {
    return RunCommand({BnmlpCliPath(),
                       absl::StrCat("--server=ipv4:", replicas[0]->address(),
                                    ",", replicas[1]->address()),
                       "--lb_policy=round_robin", "predict", "--name=m",
                       absl::StrCat("--csv=", csv), "--rows_per_request=2"});
  };
  // Until training has ended and a replica has answered (each polls the
  // store every kPollSeconds), bounded in time.
  const absl::Time give_up = absl::Now() + absl::Seconds(60);
  for (int i = 0; (!trained || predicts == 0) && absl::Now() < give_up; ++i) {
    absl::SleepFor(absl::Milliseconds(2));
    for (v1::BnMlpService::Stub* stub : {r0.get(), r1.get()}) {
      v1::PredictResponse response;
      const grpc::Status status = Predict(*stub, data.x, 0, &response);
      if (status.error_code() == grpc::StatusCode::NOT_FOUND) continue;
      ASSERT_TRUE(status.ok()) << status.error_message();
      answered[response.version()] = response.outputs().SerializeAsString();
      ++predicts;
    }
    if (i % 40 == 0) {
      absl::StatusOr<CommandResult> cli = run_cli();
      ASSERT_TRUE(cli.ok()) << cli.status();
      EXPECT_TRUE(cli->exit_code == 0 ||
                  cli->stderr_text.find("NOT_FOUND") != std::string::npos)
          << cli->stderr_text;
    }
  }
  trainer.join();
  EXPECT_GT(predicts, 0);
  // Every version a replica served is one the writer published, whole.
  for (const auto& [version, outputs] : answered) {
    v1::PredictResponse response;
    ASSERT_TRUE(Predict(*w, data.x, version, &response).ok()) << version;
    EXPECT_EQ(response.outputs().SerializeAsString(), outputs) << version;
  }

  // The final version reaches both replicas, with the writer's outputs.
  v1::GetModelRequest get;
  get.set_name("m");
  ASSERT_TRUE(w->GetModel(Deadline().get(), get, &info).ok());
  const int64_t final_version = info.version();
  for (v1::BnMlpService::Stub* stub : {r0.get(), r1.get()}) {
    const double lag = WaitFor(
        [&] {
          v1::ModelInfo seen;
          return stub->GetModel(Deadline().get(), get, &seen).ok() &&
                 seen.version() == final_version;
        },
        20 * kPollSeconds);
    std::cerr << "replica lag after the last version: " << lag << " s\n";
    v1::PredictResponse mine, theirs;
    ASSERT_TRUE(Predict(*stub, data.x, 0, &mine).ok());
    ASSERT_TRUE(Predict(*w, data.x, 0, &theirs).ok());
    EXPECT_EQ(mine.version(), final_version);
    EXPECT_EQ(mine.outputs().SerializeAsString(),
              theirs.outputs().SerializeAsString());
  }
  // Both replicas hold the final version: the CLI's round-robin succeeds.
  absl::StatusOr<CommandResult> cli = run_cli();
  ASSERT_TRUE(cli.ok()) << cli.status();
  EXPECT_EQ(cli->exit_code, 0) << cli->stderr_text;

  v1::DeleteModelRequest del;
  del.set_name("m");
  v1::DeleteModelResponse deleted;
  ASSERT_TRUE(w->DeleteModel(Deadline().get(), del, &deleted).ok());
  for (v1::BnMlpService::Stub* stub : {r0.get(), r1.get()}) {
    WaitFor(
        [&] {
          v1::ModelInfo seen;
          return stub->GetModel(Deadline().get(), get, &seen).error_code() ==
                 grpc::StatusCode::NOT_FOUND;
        },
        20 * kPollSeconds);
    v1::ModelInfo seen;
    EXPECT_EQ(stub->GetModel(Deadline().get(), get, &seen).error_code(),
              grpc::StatusCode::NOT_FOUND);
  }
  std::filesystem::remove(csv);
  replicas.clear();
  writer->reset();
}

}  // namespace
}  // namespace bnmlp::testing
