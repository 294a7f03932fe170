// The model store through a real in-process server: what survives a
// restart, resume across a restart, pinned versions, damaged files,
// interrupted training, an unwritable store, read-only replicas.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/store/model_store.h"
#include "tests/data/temp_files.h"
#include "tests/server/server_test_util.h"

namespace bnmlp::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class ModelStoreServiceTest : public ::testing::Test {
 protected:
  void TearDown() override {
    server_.reset();
    // Some cases make the store read-only; TempDir must be able to remove it.
    std::filesystem::permissions(dir_, std::filesystem::perms::owner_all);
  }

  ServerOptions StoreOptions(bool read_only = false) {
    ServerOptions options = TestServerOptions();
    options.model_dir = dir_;
    options.read_only = read_only;
    options.poll_interval = absl::Milliseconds(50);
    return options;
  }
  void Start(bool read_only = false) {
    server_.reset();
    absl::StatusOr<std::unique_ptr<InProcessServer>> server =
        InProcessServer::Start(StoreOptions(read_only));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }
  v1::BnMlpService::Stub& stub() { return server_->stub(); }
  std::string ModelDir(const std::string& name) const {
    return dir_ + "/models/" + name;
  }
  std::vector<std::string> Files(const std::string& directory) const {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(directory)) {
      names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  const data::test_files::TempDir temp_dir_;
  const std::string dir_ = temp_dir_.path();
  std::unique_ptr<InProcessServer> server_;
};

std::string ParametersBytes(v1::BnMlpService::Stub& stub,
                            const std::string& name, int64_t version = 0) {
  v1::GetParametersRequest request;
  request.set_name(name);
  request.set_version(version);
  v1::GetParametersResponse response;
  const grpc::Status status =
      stub.GetParameters(Context().get(), request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  response.clear_version();
  response.clear_name();
  return response.SerializeAsString();
}

TEST_F(ModelStoreServiceTest, ModelsSurviveARestartWithTheirVersions) {
  Start();
  const v1::ModelInfo created =
      CreateOrDie(stub(), ClassifierRequest("m", {2, 4, 2}));
  EXPECT_EQ(created.durable_version(), 1) << "CreateModel returns once durable";
  const TrainResult trained =
      RunTrain(stub(), TrainRequestFor("m", TwoBlobs(64, 3), 5, 16));
  ASSERT_TRUE(trained.status.ok()) << trained.status.error_message();
  const v1::ModelInfo info = ModelOrDie(stub(), "m");
  EXPECT_EQ(info.version(), 6);
  // The final message comes once the last version is durable; 3 are kept.
  EXPECT_EQ(info.durable_version(), 6);
  EXPECT_THAT(info.retained_versions(), ElementsAre(4, 5, 6));
  const std::string latest = ParametersBytes(stub(), "m");
  const std::string pinned = ParametersBytes(stub(), "m", 4);
  EXPECT_NE(latest, pinned);

  Start();
  const v1::ModelInfo reloaded = ModelOrDie(stub(), "m");
  EXPECT_EQ(reloaded.version(), 6);
  EXPECT_EQ(reloaded.training_state(), v1::TRAINING_STATE_TRAINED);
  EXPECT_EQ(ParametersBytes(stub(), "m"), latest);
  EXPECT_EQ(ParametersBytes(stub(), "m", 4), pinned);
  v1::GetParametersRequest request;
  request.set_name("m");
  request.set_version(2);
  v1::GetParametersResponse response;
  EXPECT_THAT(
      stub().GetParameters(Context().get(), request, &response),
      StatusIs(grpc::StatusCode::NOT_FOUND, "retained versions: 4, 5, 6"));
}

TEST_F(ModelStoreServiceTest, ResumeAcrossARestartEqualsOneLongRun) {
  Start();
  const ToyData data = TwoBlobs(64, 3);
  CreateOrDie(stub(), ClassifierRequest("long", {2, 4, 2}));
  ASSERT_TRUE(
      RunTrain(stub(), TrainRequestFor("long", data, 4, 16)).status.ok());
  CreateOrDie(stub(), ClassifierRequest("split", {2, 4, 2}));
  ASSERT_TRUE(
      RunTrain(stub(), TrainRequestFor("split", data, 2, 16)).status.ok());
  Start();
  v1::TrainRequest resume = TrainRequestFor("split", data, 2, 16);
  resume.set_resume(true);
  const TrainResult resumed = RunTrain(stub(), resume);
  ASSERT_TRUE(resumed.status.ok()) << resumed.status.error_message();
  EXPECT_EQ(ParametersBytes(stub(), "split"), ParametersBytes(stub(), "long"));
}

TEST_F(ModelStoreServiceTest,
       DamagedNewestVersionIsMovedAsideAndTheLastGoodServed) {
  Start();
  CreateOrDie(stub(), ClassifierRequest("m", {2, 4, 2}));
  ASSERT_TRUE(RunTrain(stub(), TrainRequestFor("m", TwoBlobs(64, 3), 2, 16))
                  .status.ok());
  const std::string version2 = ParametersBytes(stub(), "m", 2);
  server_.reset();
  const std::string newest = ModelDir("m") + "/v000000000003.bnmlp";
  {
    std::fstream file(newest, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(40);
    file.put('\x7f');
  }
  Start();
  const v1::ModelInfo info = ModelOrDie(stub(), "m");
  EXPECT_EQ(info.version(), 2);
  EXPECT_EQ(ParametersBytes(stub(), "m"), version2);
  const std::vector<std::string> files = Files(ModelDir("m"));
  EXPECT_EQ(std::count_if(files.begin(), files.end(),
                          [](const std::string& f) {
                            return f.find("v000000000003.bnmlp.corrupt-") == 0;
                          }),
            1)
      << "the damaged file is kept aside, never deleted";
  // Training goes on from version 2: the next version is 3 again.
  ASSERT_TRUE(RunTrain(stub(), TrainRequestFor("m", TwoBlobs(64, 3), 1, 16))
                  .status.ok());
  EXPECT_EQ(ModelOrDie(stub(), "m").durable_version(), 3);
}

TEST_F(ModelStoreServiceTest, TrainingCutOffComesBackInterrupted) {
  Start();
  CreateOrDie(stub(), ClassifierRequest("m", {2, 4, 2}));
  {
    BackgroundTrain training(
        stub(), TrainRequestFor("m", TwoBlobs(2000, 3), 100000, 2));
    ASSERT_TRUE(training.WaitForEpochEnds(1));
    // A crash: the STATE file still says TRAINING. Simulated by copying the
    // store while training runs, and starting on the copy.
    // Files come and go while training writes versions (temporaries
    // renamed into place, old versions pruned): a copy that met a file
    // vanishing is retried (bounded).
    const std::string copy = dir_ + "-copy";
    std::error_code copy_error;
    for (int attempt = 0; attempt < 50; ++attempt) {
      std::filesystem::remove_all(copy);
      copy_error.clear();
      std::filesystem::copy(
          dir_, copy, std::filesystem::copy_options::recursive, copy_error);
      if (!copy_error) break;
    }
    ASSERT_FALSE(copy_error) << copy_error.message();
    std::filesystem::remove(copy + "/LOCK");
    training.Cancel();
    training.Join();
    server_.reset();
    std::filesystem::remove_all(dir_);
    std::filesystem::rename(copy, dir_);
  }
  Start();
  const v1::ModelInfo info = ModelOrDie(stub(), "m");
  EXPECT_EQ(info.training_state(), v1::TRAINING_STATE_INTERRUPTED);
  EXPECT_THAT(info.last_error(), HasSubstr("last durable version"));
  EXPECT_GE(info.version(), 1);
}

TEST_F(ModelStoreServiceTest, DeleteRemovesTheFilesAndTheNameIsFree) {
  Start();
  CreateOrDie(stub(), ClassifierRequest("m", {2, 4, 2}));
  v1::DeleteModelRequest request;
  request.set_name("m");
  v1::DeleteModelResponse response;
  ASSERT_TRUE(stub().DeleteModel(Context().get(), request, &response).ok());
  EXPECT_TRUE(Files(dir_ + "/models").empty());
  // A tombstone a crash left behind is removed at startup, never loaded.
  std::filesystem::create_directories(dir_ + "/models/.deleted.x.1");
  Start();
  v1::ListModelsResponse list;
  ASSERT_TRUE(stub().ListModels(Context().get(), {}, &list).ok());
  EXPECT_EQ(list.models_size(), 0);
  EXPECT_TRUE(Files(dir_ + "/models").empty());
  CreateOrDie(stub(), ClassifierRequest("m", {2, 4, 2}));
}

// The store's directory turns into something nothing can be written under
// (a file where models/ was: permissions would not stop root).
TEST_F(ModelStoreServiceTest, AnUnwritableStoreFailsTheCallNamingThePath) {
  Start();
  CreateOrDie(stub(), ClassifierRequest("kept", {2, 4, 2}));
  const std::string kept = ParametersBytes(stub(), "kept");
  std::filesystem::rename(dir_ + "/models", dir_ + "/models.away");
  std::ofstream(dir_ + "/models") << "not a directory";

  v1::ModelInfo info;
  const grpc::Status created = stub().CreateModel(
      Context().get(), ClassifierRequest("blocked", {2, 4, 2}), &info);
  EXPECT_NE(created.error_code(), grpc::StatusCode::OK);
  EXPECT_THAT(created.error_message(), HasSubstr(dir_ + "/models/blocked"));
  v1::GetModelRequest get;
  get.set_name("blocked");
  EXPECT_EQ(stub().GetModel(Context().get(), get, &info).error_code(),
            grpc::StatusCode::NOT_FOUND)
      << "a model that cannot be persisted is not created";

  const TrainResult trained =
      RunTrain(stub(), TrainRequestFor("kept", TwoBlobs(64, 3), 1, 16));
  EXPECT_NE(trained.status.error_code(), grpc::StatusCode::OK);
  EXPECT_THAT(trained.status.error_message(), HasSubstr(dir_ + "/models/kept"));
  EXPECT_EQ(ParametersBytes(stub(), "kept"), kept)
      << "the model keeps its last good version";
  std::filesystem::remove(dir_ + "/models");
  std::filesystem::rename(dir_ + "/models.away", dir_ + "/models");
}

TEST_F(ModelStoreServiceTest, ASecondWriterIsRefusedNamingTheHolder) {
  Start();
  absl::StatusOr<std::unique_ptr<InProcessServer>> second =
      InProcessServer::Start(StoreOptions());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(second.status().message(),
              HasSubstr(absl::StrCat("pid=", getpid())));
}

TEST_F(ModelStoreServiceTest, ReadOnlyReplicaFollowsTheWriterAndRefusesWrites) {
  Start();
  std::unique_ptr<InProcessServer> writer = std::move(server_);
  Start(/*read_only=*/true);
  v1::ModelInfo info;
  EXPECT_THAT(stub().CreateModel(Context().get(),
                                 ClassifierRequest("m", {2, 4, 2}), &info),
              StatusIs(grpc::StatusCode::FAILED_PRECONDITION,
                       "this replica is read-only"));
  CreateOrDie(writer->stub(), ClassifierRequest("m", {2, 4, 2}));
  ASSERT_TRUE(
      RunTrain(writer->stub(), TrainRequestFor("m", TwoBlobs(64, 3), 2, 16))
          .status.ok());
  const std::string trained = ParametersBytes(writer->stub(), "m");
  bool seen = false;
  for (int i = 0; i < 200 && !seen; ++i) {
    v1::GetModelRequest get;
    get.set_name("m");
    seen = stub().GetModel(Context().get(), get, &info).ok() &&
           info.version() == 3;
    if (!seen) absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_TRUE(seen);
  EXPECT_EQ(ParametersBytes(stub(), "m"), trained);
  v1::DeleteModelRequest request;
  request.set_name("m");
  v1::DeleteModelResponse response;
  EXPECT_THAT(stub().DeleteModel(Context().get(), request, &response),
              StatusIs(grpc::StatusCode::FAILED_PRECONDITION, "read-only"));
  ASSERT_TRUE(
      writer->stub().DeleteModel(Context().get(), request, &response).ok());
  bool gone = false;
  for (int i = 0; i < 200 && !gone; ++i) {
    v1::GetModelRequest get;
    get.set_name("m");
    gone = stub().GetModel(Context().get(), get, &info).error_code() ==
           grpc::StatusCode::NOT_FOUND;
    if (!gone) absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_TRUE(gone);
}

}  // namespace
}  // namespace bnmlp::testing
