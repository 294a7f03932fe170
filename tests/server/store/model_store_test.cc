#include "server/store/model_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/model.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/data/temp_files.h"

namespace bnmlp {
namespace {

using ::bnmlp::data::test_files::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Version `version` of model `name`: a 3-5-2 model whose first weight is
// `version`, so every version's parameters differ.
ModelVersion VersionOf(const std::string& name, int64_t version) {
  ModelConfig config;
  config.layer_sizes = {3, 5, 2};
  config.seed = 7;
  Model<float> model = *Model<float>::Create(config);
  model.mutable_layer(0).weight(0, 0) = static_cast<float>(version);
  return ModelVersion{name, version,
                      std::make_shared<const Model<float>>(std::move(model)),
                      nullptr, std::nullopt};
}

float FirstWeight(const ModelVersion& version) {
  return version.model->layer(0).weight(0, 0);
}

std::vector<std::string> Entries(const std::string& directory) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(directory)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

class ModelStoreTest : public ::testing::Test {
 protected:
  ModelStoreOptions Options(bool read_only = false) const {
    ModelStoreOptions options;
    options.directory = dir_.path() + "/store";
    options.read_only = read_only;
    options.keep_versions = 3;
    return options;
  }
  std::unique_ptr<ModelStore> OpenOrDie(bool read_only = false) const {
    absl::StatusOr<std::unique_ptr<ModelStore>> store =
        ModelStore::Open(Options(read_only));
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }
  std::string ModelDir(const std::string& name) const {
    return absl::StrCat(dir_.path(), "/store/models/", name);
  }

  TempDir dir_;
};

TEST_F(ModelStoreTest, OneWriterAtATimeNamingTheHolder) {
  std::unique_ptr<ModelStore> writer = OpenOrDie();
  ASSERT_NE(writer, nullptr);
  absl::StatusOr<std::unique_ptr<ModelStore>> second =
      ModelStore::Open(Options());
  ASSERT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(second.status().message(),
              HasSubstr(absl::StrCat(
                  "in use by another bnmlp-server (pid=", getpid(), " host=")));
  EXPECT_THAT(second.status().message(), HasSubstr("--read_only"));
  // A replica takes no lock.
  EXPECT_NE(OpenOrDie(/*read_only=*/true), nullptr);
  // Closing the writer releases the lock.
  writer.reset();
  EXPECT_NE(OpenOrDie(), nullptr);
}

TEST_F(ModelStoreTest, BadOptionsAndAMissingReplicaDirectoryAreRefused) {
  ModelStoreOptions options = Options();
  options.keep_versions = 0;
  EXPECT_EQ(ModelStore::Open(options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options = Options();
  options.directory = "";
  EXPECT_EQ(ModelStore::Open(options).status().code(),
            absl::StatusCode::kInvalidArgument);
  absl::StatusOr<std::unique_ptr<ModelStore>> replica =
      ModelStore::Open(Options(/*read_only=*/true));
  ASSERT_EQ(replica.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(replica.status().message(), HasSubstr("start the writer"));
}

TEST_F(ModelStoreTest, CreatedModelsLoadBackAfterReopening) {
  {
    std::unique_ptr<ModelStore> store = OpenOrDie();
    ASSERT_TRUE(store->CreateModel(VersionOf("b", 1)).ok());
    absl::StatusOr<std::shared_ptr<StoredModel>> a =
        store->CreateModel(VersionOf("a", 1));
    ASSERT_TRUE(a.ok()) << a.status();
    ASSERT_TRUE((*a)->WriteVersion(VersionOf("a", 2)).ok());
    EXPECT_EQ((*a)->durable_version(), 2);
  }
  std::unique_ptr<ModelStore> store = OpenOrDie();
  EXPECT_THAT(store->ListModelNames(), ElementsAre("a", "b"));
  absl::StatusOr<LoadedModel> a = store->LoadModel("a");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->newest.version, 2);
  EXPECT_EQ(FirstWeight(a->newest), 2.0f);
  EXPECT_EQ(a->state.state, TrainingState::kUntrained);
  EXPECT_THAT(a->files->RetainedVersions(), ElementsAre(1, 2));
  absl::StatusOr<ModelVersion> first = a->files->ReadVersion(1);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(FirstWeight(*first), 1.0f);
}

TEST_F(ModelStoreTest, KeepsOnlyTheNewestVersions) {
  std::unique_ptr<ModelStore> store = OpenOrDie();
  absl::StatusOr<std::shared_ptr<StoredModel>> m =
      store->CreateModel(VersionOf("m", 1));
  ASSERT_TRUE(m.ok()) << m.status();
  for (int64_t v = 2; v <= 5; ++v) {
    ASSERT_TRUE((*m)->WriteVersion(VersionOf("m", v)).ok());
  }
  EXPECT_THAT((*m)->RetainedVersions(), ElementsAre(3, 4, 5));
  EXPECT_THAT(ListVersionFiles(ModelDir("m")), ElementsAre(3, 4, 5));
  absl::StatusOr<ModelVersion> pruned = (*m)->ReadVersion(2);
  ASSERT_EQ(pruned.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(pruned.status().message(),
              HasSubstr("retained versions: 3, 4, 5"));
}

TEST_F(ModelStoreTest, BackgroundWritesAreDurableAfterFlush) {
  std::unique_ptr<ModelStore> store = OpenOrDie();
  absl::StatusOr<std::shared_ptr<StoredModel>> m =
      store->CreateModel(VersionOf("m", 1));
  ASSERT_TRUE(m.ok()) << m.status();
  for (int64_t v = 2; v <= 6; ++v)
    (*m)->WriteVersionInBackground(VersionOf("m", v));
  ASSERT_TRUE((*m)->Flush().ok());
  EXPECT_EQ((*m)->durable_version(), 6);
  EXPECT_THAT(ListVersionFiles(ModelDir("m")), ElementsAre(4, 5, 6));
}

// A damaged newest version is moved aside (kept for inspection) and the
// previous one loads; a replica skips it and moves nothing.
TEST_F(ModelStoreTest, ADamagedVersionIsMovedAsideAndTheOneBeforeLoads) {
  {
    std::unique_ptr<ModelStore> store = OpenOrDie();
    absl::StatusOr<std::shared_ptr<StoredModel>> m =
        store->CreateModel(VersionOf("m", 1));
    ASSERT_TRUE(m.ok()) << m.status();
    ASSERT_TRUE((*m)->WriteVersion(VersionOf("m", 2)).ok());
  }
  const std::string newest = ModelDir("m") + "/v000000000002.bnmlp";
  ASSERT_TRUE(std::filesystem::exists(newest));
  std::filesystem::resize_file(newest, std::filesystem::file_size(newest) - 10);

  std::unique_ptr<ModelStore> replica = OpenOrDie(/*read_only=*/true);
  absl::StatusOr<LoadedModel> seen = replica->LoadModel("m");
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_EQ(seen->newest.version, 1);
  EXPECT_TRUE(std::filesystem::exists(newest)) << "a replica moves nothing";

  std::unique_ptr<ModelStore> writer = OpenOrDie();
  absl::StatusOr<LoadedModel> loaded = writer->LoadModel("m");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->newest.version, 1);
  EXPECT_EQ(FirstWeight(loaded->newest), 1.0f);
  EXPECT_THAT(loaded->files->RetainedVersions(), ElementsAre(1));
  const std::vector<std::string> files = Entries(ModelDir("m"));
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0], "v000000000001.bnmlp");
  EXPECT_TRUE(absl::StartsWith(files[1], "v000000000002.bnmlp.corrupt-"))
      << files[1];
}

TEST_F(ModelStoreTest, AModelWithoutAValidVersionIsNotFound) {
  std::unique_ptr<ModelStore> store = OpenOrDie();
  ASSERT_EQ(mkdir(ModelDir("empty").c_str(), 0755), 0);
  absl::StatusOr<LoadedModel> loaded = store->LoadModel("empty");
  ASSERT_EQ(loaded.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(loaded.status().message(), HasSubstr("holds no valid version"));
  // Creating the name again keeps the old directory aside.
  ASSERT_TRUE(store->CreateModel(VersionOf("empty", 1)).ok());
  EXPECT_THAT(ListVersionFiles(ModelDir("empty")), ElementsAre(1));
}

TEST_F(ModelStoreTest, ATrainingInterruptedByAStopLoadsAsInterrupted) {
  {
    std::unique_ptr<ModelStore> store = OpenOrDie();
    absl::StatusOr<std::shared_ptr<StoredModel>> m =
        store->CreateModel(VersionOf("m", 1));
    ASSERT_TRUE(m.ok()) << m.status();
    StoredTrainingState training;
    training.state = TrainingState::kTraining;
    ASSERT_TRUE((*m)->WriteTrainingState(training).ok());
  }
  absl::StatusOr<LoadedModel> replica_view =
      OpenOrDie(/*read_only=*/true)->LoadModel("m");
  ASSERT_TRUE(replica_view.ok()) << replica_view.status();
  EXPECT_EQ(replica_view->state.state, TrainingState::kTraining)
      << "a replica reads the writer's live state";
  absl::StatusOr<LoadedModel> loaded = OpenOrDie()->LoadModel("m");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->state.state, TrainingState::kInterrupted);
  EXPECT_THAT(loaded->state.last_error, HasSubstr("last durable version, 1"));
}

TEST_F(ModelStoreTest, DeleteRemovesTheFilesAndRefusesLaterWrites) {
  std::unique_ptr<ModelStore> store = OpenOrDie();
  absl::StatusOr<std::shared_ptr<StoredModel>> m =
      store->CreateModel(VersionOf("m", 1));
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_TRUE(store->DeleteModel(**m).ok());
  EXPECT_THAT(store->ListModelNames(), IsEmpty());
  EXPECT_THAT(Entries(dir_.path() + "/store/models"), IsEmpty());
  EXPECT_EQ((*m)->WriteVersion(VersionOf("m", 2)).code(),
            absl::StatusCode::kFailedPrecondition);
}

// What a crash leaves half done is cleaned up when the writer opens: a
// tombstone of a delete and a temporary of a write. A replica leaves both.
TEST_F(ModelStoreTest, OpeningRemovesTombstonesAndTemporaries) {
  {
    std::unique_ptr<ModelStore> store = OpenOrDie();
    ASSERT_TRUE(store->CreateModel(VersionOf("m", 1)).ok());
  }
  const std::string models = dir_.path() + "/store/models";
  const std::string tombstone = models + "/.deleted.old.123";
  ASSERT_EQ(mkdir(tombstone.c_str(), 0755), 0);
  const std::string temporary = ModelDir("m") + "/v000000000002.bnmlp.tmp";
  const int fd = open(temporary.c_str(), O_WRONLY | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  close(fd);
  EXPECT_NE(OpenOrDie(/*read_only=*/true), nullptr);
  EXPECT_TRUE(std::filesystem::exists(tombstone));
  EXPECT_TRUE(std::filesystem::exists(temporary));

  EXPECT_NE(OpenOrDie(), nullptr);
  EXPECT_THAT(Entries(models), ElementsAre("m"));
  EXPECT_THAT(Entries(ModelDir("m")), ElementsAre("v000000000001.bnmlp"));
}

}  // namespace
}  // namespace bnmlp
