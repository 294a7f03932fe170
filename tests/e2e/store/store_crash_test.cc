// The model store under SIGKILL: the real bnmlp-server is killed at random
// moments while it trains (publishing a version every few milliseconds)
// and creates models, then restarted on the same --model_dir. Every round:
// the server starts, every model loads, every retained version reads back
// whole (no torn file, nothing moved aside), the trained model's parameters
// equal what the server published for that version before the kill, every
// model whose CreateModel returned exists, and the cut-off run says
// INTERRUPTED. Bounded: kRounds rounds of at most ~1 s each.

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
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
#include "tests/e2e/support/server_process.h"

namespace bnmlp::testing {
namespace {

constexpr int kRounds = 24;

std::unique_ptr<grpc::ClientContext> Deadline(int seconds = 10) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::seconds(seconds));
  return context;
}

v1::Tensor Blobs(int n, std::vector<int32_t>* labels) {
  std::mt19937 rng(5);
  std::normal_distribution<float> noise(0, 0.7f);
  v1::Tensor x;
  x.add_shape(n);
  x.add_shape(2);
  for (int i = 0; i < n; ++i) {
    const int label = i % 2;
    labels->push_back(label);
    x.add_values(label * 2 - 1 + noise(rng));
    x.add_values(label * 2 - 1 + noise(rng));
  }
  return x;
}

// GetParameters without name and version: the bytes to compare.
std::optional<std::pair<int64_t, std::string>> Parameters(
    v1::BnMlpService::Stub& stub, const std::string& name, int64_t version) {
  v1::GetParametersRequest request;
  request.set_name(name);
  request.set_version(version);
  v1::GetParametersResponse response;
  if (!stub.GetParameters(Deadline().get(), request, &response).ok()) {
    return std::nullopt;
  }
  const int64_t answered = response.version();
  response.clear_version();
  response.clear_name();
  return std::make_pair(answered, response.SerializeAsString());
}

class StoreCrashTest : public ::testing::Test {
 protected:
  const data::test_files::TempDir temp_dir_;
  const std::string dir_ = temp_dir_.path();
};

TEST_F(StoreCrashTest, EveryModelSurvivesSigkillWhole) {
  std::mt19937 rng(20240601);
  // Every version of "t" the server answered GetParameters with.
  std::map<int64_t, std::string> published;
  std::set<std::string> created;  // CreateModel returned OK
  std::vector<int32_t> labels;
  const v1::Tensor x = Blobs(256, &labels);
  for (int round = 0; round < kRounds; ++round) {
    absl::StatusOr<std::unique_ptr<ServerProcess>> server =
        ServerProcess::Start({absl::StrCat("--model_dir=", dir_),
                              "--keep_versions=4", "--compute_threads=1",
                              "--progress_interval_seconds=0.05"});
    ASSERT_TRUE(server.ok()) << "round " << round << ": " << server.status();
    auto stub = v1::BnMlpService::NewStub(grpc::CreateChannel(
        (*server)->address(), grpc::InsecureChannelCredentials()));

    // What the restart brought back.
    v1::ListModelsResponse list;
    ASSERT_TRUE(stub->ListModels(Deadline().get(), {}, &list).ok());
    std::set<std::string> listed;
    int64_t restored_t_version = 0;
    for (const v1::ModelInfo& info : list.models()) {
      listed.insert(info.name());
      if (info.name() == "t") restored_t_version = info.version();
      for (int64_t version : info.retained_versions()) {
        const auto read = Parameters(*stub, info.name(), version);
        ASSERT_TRUE(read.has_value())
            << "round " << round << ": " << info.name() << " v" << version;
        if (info.name() == "t" && published.count(version)) {
          EXPECT_EQ(read->second, published[version])
              << "round " << round << ": v" << version;
        }
      }
      if (info.name() == "t" && round > 0) {
        EXPECT_EQ(info.training_state(), v1::TRAINING_STATE_INTERRUPTED)
            << "round " << round << ": " << info.last_error();
      }
    }
    for (const std::string& name : created) {
      EXPECT_TRUE(listed.count(name)) << "round " << round << ": " << name;
    }
    for (const auto& entry :
         std::filesystem::recursive_directory_iterator(dir_)) {
      EXPECT_EQ(entry.path().string().find(".corrupt-"), std::string::npos)
          << entry.path();
    }

    if (round == 0) {
      v1::CreateModelRequest create;
      create.set_name("t");
      for (int64_t size : {2, 32, 32, 2}) create.add_layer_sizes(size);
      v1::ModelInfo info;
      ASSERT_TRUE(stub->CreateModel(Deadline().get(), create, &info).ok());
      created.insert("t");
    }
    // Train "t" (resuming when it can) until the kill.
    v1::TrainRequest train;
    train.set_name("t");
    *train.mutable_x() = x;
    train.mutable_labels()->Add(labels.begin(), labels.end());
    train.set_epochs(100000);
    train.set_batch_size(32);
    // Resume when the restart brought back a trained version (version 1 is
    // the created model, which has no training state to resume from: a
    // kill before the first epoch's version was written leaves only it).
    train.set_resume(restored_t_version > 1);
    grpc::ClientContext train_context;
    auto reader = stub->Train(&train_context, train);
    std::atomic<bool> stop{false};
    std::thread drain([&] {
      v1::TrainResponse response;
      while (!stop && reader->Read(&response)) {
      }
    });
    // Meanwhile: record published versions, create models.
    const absl::Time kill_at =
        absl::Now() +
        absl::Milliseconds(std::uniform_int_distribution<int>(100, 600)(rng));
    int creates = 0;
    while (absl::Now() < kill_at) {
      if (auto read = Parameters(*stub, "t", 0)) {
        published.emplace(read->first, read->second);
      }
      if (creates++ % 5 == 0) {
        v1::CreateModelRequest create;
        create.set_name(absl::StrCat("c", round, "_", creates));
        for (int64_t size : {2, 8, 2}) create.add_layer_sizes(size);
        v1::ModelInfo info;
        if (stub->CreateModel(Deadline().get(), create, &info).ok()) {
          created.insert(create.name());
        }
      }
    }
    ASSERT_TRUE((*server)->Stop(SIGKILL).ok());
    stop = true;
    train_context.TryCancel();
    drain.join();
    reader->Finish();
  }
  EXPECT_GT(published.size(), static_cast<size_t>(kRounds));
}

}  // namespace
}  // namespace bnmlp::testing
