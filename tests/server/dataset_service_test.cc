// UploadDataset, ListDatasets, GetDataset, DeleteDataset and Train from a
// dataset, through a real in-process server and stub.

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/data/temp_files.h"
#include "tests/server/server_test_util.h"

namespace bnmlp::testing {
namespace {

using ::testing::HasSubstr;

struct UploadResult {
  grpc::Status status;
  v1::UploadDatasetResponse response;
};

v1::DatasetHeader LabelsHeader(const std::string& name, int64_t features) {
  v1::DatasetHeader header;
  header.set_name(name);
  header.set_features(features);
  header.set_target_kind(v1::TARGET_KIND_CLASS_LABELS);
  return header;
}

// Rows [first, first + count) of `data` ([n, 2] with labels) as a chunk.
v1::DatasetChunk ChunkOf(const ToyData& data, int first, int count) {
  v1::DatasetChunk chunk;
  std::vector<float> x(data.x.values().begin() + 2 * first,
                       data.x.values().begin() + 2 * (first + count));
  *chunk.mutable_x() = MakeTensor({count, 2}, x);
  for (int i = first; i < first + count; ++i) chunk.add_labels(data.labels[i]);
  return chunk;
}

UploadResult Upload(v1::BnMlpService::Stub& stub,
                    const v1::DatasetHeader& header,
                    const std::vector<v1::DatasetChunk>& chunks) {
  UploadResult result;
  std::unique_ptr<grpc::ClientContext> context = Context();
  std::unique_ptr<grpc::ClientWriter<v1::UploadDatasetRequest>> writer =
      stub.UploadDataset(context.get(), &result.response);
  v1::UploadDatasetRequest message;
  *message.mutable_header() = header;
  bool open = writer->Write(message);
  for (const v1::DatasetChunk& chunk : chunks) {
    if (!open) break;
    message.Clear();
    *message.mutable_chunk() = chunk;
    open = writer->Write(message);
  }
  writer->WritesDone();
  result.status = writer->Finish();
  return result;
}

// `data` in chunks of `rows_per_chunk` rows.
UploadResult UploadToy(v1::BnMlpService::Stub& stub, const std::string& name,
                       const ToyData& data, int rows_per_chunk) {
  std::vector<v1::DatasetChunk> chunks;
  const int n = static_cast<int>(data.labels.size());
  for (int first = 0; first < n; first += rows_per_chunk) {
    chunks.push_back(ChunkOf(data, first, std::min(rows_per_chunk, n - first)));
  }
  return Upload(stub, LabelsHeader(name, 2), chunks);
}

grpc::Status GetDataset(v1::BnMlpService::Stub& stub, const std::string& name,
                        v1::DatasetInfo* info) {
  v1::GetDatasetRequest request;
  request.set_name(name);
  return stub.GetDataset(Context().get(), request, info);
}

std::vector<v1::DatasetInfo> ListDatasets(v1::BnMlpService::Stub& stub) {
  v1::ListDatasetsResponse response;
  const grpc::Status status =
      stub.ListDatasets(Context().get(), v1::ListDatasetsRequest(), &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return {response.datasets().begin(), response.datasets().end()};
}

grpc::Status DeleteDataset(v1::BnMlpService::Stub& stub,
                           const std::string& name,
                           v1::DeleteDatasetResponse* response) {
  v1::DeleteDatasetRequest request;
  request.set_name(name);
  return stub.DeleteDataset(Context().get(), request, response);
}

void ExpectSameParameters(const v1::GetParametersResponse& a,
                          const v1::GetParametersResponse& b) {
  ASSERT_EQ(a.layers_size(), b.layers_size());
  for (int l = 0; l < a.layers_size(); ++l) {
    // Bytewise: bit-identical, not merely close.
    EXPECT_EQ(a.layers(l).SerializeAsString(), b.layers(l).SerializeAsString())
        << "layer " << l;
  }
}

class DatasetServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(TestServerOptions()); }
  void StartServer(const ServerOptions& options) {
    server_.reset();
    absl::StatusOr<std::unique_ptr<InProcessServer>> started =
        InProcessServer::Start(options);
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = *std::move(started);
  }
  v1::BnMlpService::Stub& stub() { return server_->stub(); }

  std::unique_ptr<InProcessServer> server_;
};

TEST_F(DatasetServiceTest, UploadListGetDelete) {
  const ToyData data = TwoBlobs(50, 3);
  const UploadResult uploaded = UploadToy(stub(), "blobs", data, 16);
  ASSERT_TRUE(uploaded.status.ok()) << uploaded.status.error_message();
  const v1::DatasetInfo& info = uploaded.response.dataset();
  EXPECT_EQ(info.name(), "blobs");
  EXPECT_EQ(info.rows(), 50);
  EXPECT_EQ(info.features(), 2);
  EXPECT_EQ(info.target_kind(), v1::TARGET_KIND_CLASS_LABELS);
  EXPECT_EQ(info.classes(), 2);
  EXPECT_EQ(info.bytes(), 50 * 3 * 4);
  EXPECT_THAT(info.content_checksum(),
              ::testing::MatchesRegex("crc32:[0-9a-f]{8}"));

  // The same rows in other chunks have the same checksum; other rows not.
  const UploadResult again = UploadToy(stub(), "blobs2", data, 7);
  ASSERT_TRUE(again.status.ok());
  EXPECT_EQ(again.response.dataset().content_checksum(),
            info.content_checksum());
  const UploadResult other = UploadToy(stub(), "other", TwoBlobs(50, 4), 16);
  ASSERT_TRUE(other.status.ok());
  EXPECT_NE(other.response.dataset().content_checksum(),
            info.content_checksum());

  const std::vector<v1::DatasetInfo> list = ListDatasets(stub());
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].name(), "blobs");
  EXPECT_EQ(list[1].name(), "blobs2");
  v1::DatasetInfo got;
  ASSERT_TRUE(GetDataset(stub(), "blobs", &got).ok());
  EXPECT_EQ(got.SerializeAsString(), info.SerializeAsString());

  EXPECT_THAT(UploadToy(stub(), "blobs", data, 16).status,
              StatusIs(grpc::StatusCode::ALREADY_EXISTS, "already exists"));
  v1::DeleteDatasetResponse deleted;
  ASSERT_TRUE(DeleteDataset(stub(), "blobs", &deleted).ok());
  EXPECT_EQ(deleted.trainings_using(), 0);
  EXPECT_THAT(GetDataset(stub(), "blobs", &got),
              StatusIs(grpc::StatusCode::NOT_FOUND, "dataset 'blobs'"));
  EXPECT_THAT(DeleteDataset(stub(), "blobs", &deleted),
              StatusIs(grpc::StatusCode::NOT_FOUND, "not found"));
  EXPECT_EQ(ListDatasets(stub()).size(), 2u);
}

TEST_F(DatasetServiceTest,
       ABadChunkFailsTheUploadNamingTheRowAndLeavesNothing) {
  const ToyData data = TwoBlobs(30, 3);
  std::vector<v1::DatasetChunk> chunks = {ChunkOf(data, 0, 10),
                                          ChunkOf(data, 10, 10)};
  chunks[1].mutable_x()->set_values(
      7, std::numeric_limits<float>::quiet_NaN());  // row 13, feature 1
  EXPECT_THAT(Upload(stub(), LabelsHeader("bad", 2), chunks).status,
              StatusIs(grpc::StatusCode::INVALID_ARGUMENT,
                       "chunk 2 (rows 10-19): x[13][1] is nan"));
  chunks[1] = ChunkOf(data, 10, 10);
  chunks[1].set_labels(4, -3);
  EXPECT_THAT(Upload(stub(), LabelsHeader("bad", 2), chunks).status,
              StatusIs(grpc::StatusCode::INVALID_ARGUMENT, "labels[14] = -3"));
  EXPECT_TRUE(ListDatasets(stub()).empty());
  // The name was never taken.
  EXPECT_TRUE(UploadToy(stub(), "bad", data, 10).status.ok());
}

TEST_F(DatasetServiceTest, RefusesBadHeadersAndStreams) {
  const ToyData data = TwoBlobs(4, 3);
  v1::DatasetHeader header = LabelsHeader("h", 2);
  header.set_target_kind(v1::TARGET_KIND_UNSPECIFIED);
  EXPECT_THAT(
      Upload(stub(), header, {}).status,
      StatusIs(grpc::StatusCode::INVALID_ARGUMENT, "header.target_kind"));
  header = LabelsHeader("h", 0);
  EXPECT_THAT(Upload(stub(), header, {}).status,
              StatusIs(grpc::StatusCode::INVALID_ARGUMENT, "header.features"));
  header = LabelsHeader("bad name!", 2);
  EXPECT_THAT(Upload(stub(), header, {}).status,
              StatusIs(grpc::StatusCode::INVALID_ARGUMENT, "header.name"));
  EXPECT_THAT(Upload(stub(), LabelsHeader("h", 2), {}).status,
              StatusIs(grpc::StatusCode::INVALID_ARGUMENT, "no rows"));
  header = LabelsHeader("h", 2);
  header.set_expected_rows(5);
  EXPECT_THAT(Upload(stub(), header, {ChunkOf(data, 0, 4)}).status,
              StatusIs(grpc::StatusCode::INVALID_ARGUMENT,
                       "4 rows arrived; expected_rows announced 5"));
  v1::DatasetChunk three_features;
  *three_features.mutable_x() = MakeTensor({1, 3}, {1, 2, 3});
  three_features.add_labels(0);
  EXPECT_THAT(
      Upload(stub(), LabelsHeader("h", 2), {three_features}).status,
      StatusIs(grpc::StatusCode::INVALID_ARGUMENT, "x has 3 features per row"));
  EXPECT_TRUE(ListDatasets(stub()).empty());
}

TEST_F(DatasetServiceTest, UploadsBeyondTheDatasetMemoryLimitAreRefused) {
  ServerOptions options = TestServerOptions();
  options.max_dataset_bytes = 100 * 12;  // 100 rows of 2 features + label
  StartServer(options);
  const ToyData data = TwoBlobs(80, 3);
  ASSERT_TRUE(UploadToy(stub(), "a", data, 30).status.ok());
  EXPECT_THAT(UploadToy(stub(), "b", data, 30).status,
              StatusIs(grpc::StatusCode::RESOURCE_EXHAUSTED,
                       "dataset 'b' needs 360 more bytes; 960 of the 1200 "
                       "bytes allowed are in use (--max_dataset_bytes)"));
  v1::DatasetHeader header = LabelsHeader("c", 2);
  header.set_expected_rows(1000);
  EXPECT_THAT(Upload(stub(), header, {}).status,
              StatusIs(grpc::StatusCode::RESOURCE_EXHAUSTED, "1000 rows"));
  // A refused upload gives its memory back; a delete frees the rest.
  v1::DeleteDatasetResponse deleted;
  ASSERT_TRUE(DeleteDataset(stub(), "a", &deleted).ok());
  EXPECT_TRUE(UploadToy(stub(), "b", data, 30).status.ok());
}

TEST_F(DatasetServiceTest, TrainingFromADatasetIsBitIdenticalToInline) {
  const ToyData data = TwoBlobs(60, 5);
  const ToyData validation = TwoBlobs(20, 6);
  ASSERT_TRUE(UploadToy(stub(), "train", data, 11).status.ok());
  ASSERT_TRUE(UploadToy(stub(), "valid", validation, 9).status.ok());
  CreateOrDie(stub(), ClassifierRequest("inline", {2, 6, 2}, 42));
  CreateOrDie(stub(), ClassifierRequest("uploaded", {2, 6, 2}, 42));

  v1::TrainRequest inline_request = TrainRequestFor("inline", data, 3, 8);
  *inline_request.mutable_validation_x() = validation.x;
  inline_request.mutable_validation_labels()->Add(validation.labels.begin(),
                                                  validation.labels.end());
  inline_request.set_shuffle_seed(9);
  const TrainResult inline_result = RunTrain(stub(), inline_request);
  ASSERT_TRUE(inline_result.status.ok())
      << inline_result.status.error_message();

  v1::TrainRequest from_dataset = inline_request;
  from_dataset.set_name("uploaded");
  from_dataset.clear_x();
  from_dataset.clear_labels();
  from_dataset.clear_validation_x();
  from_dataset.clear_validation_labels();
  from_dataset.set_dataset("train");
  from_dataset.set_validation_dataset("valid");
  const TrainResult dataset_result = RunTrain(stub(), from_dataset);
  ASSERT_TRUE(dataset_result.status.ok())
      << dataset_result.status.error_message();

  ExpectSameParameters(ParametersOrDie(stub(), "inline"),
                       ParametersOrDie(stub(), "uploaded"));
  EXPECT_EQ(inline_result.LastFigures().validation_loss(),
            dataset_result.LastFigures().validation_loss());
  EXPECT_TRUE(dataset_result.LastFigures().has_validation());
}

TEST_F(DatasetServiceTest, TrainRefusesTwoSourcesAndMismatchedDatasets) {
  const ToyData data = TwoBlobs(20, 5);
  ASSERT_TRUE(UploadToy(stub(), "d", data, 20).status.ok());
  CreateOrDie(stub(), ClassifierRequest("m", {2, 4, 2}));
  CreateOrDie(stub(), ClassifierRequest("wide", {3, 4, 2}));
  v1::TrainRequest both = TrainRequestFor("m", data, 1, 8);
  both.set_dataset("d");
  EXPECT_THAT(RunTrain(stub(), both).status,
              StatusIs(grpc::StatusCode::INVALID_ARGUMENT,
                       "dataset and x / labels / targets are both given"));
  v1::TrainRequest both_validation = TrainRequestFor("m", data, 1, 8);
  *both_validation.mutable_validation_x() = data.x;
  both_validation.set_validation_dataset("d");
  EXPECT_THAT(RunTrain(stub(), both_validation).status,
              StatusIs(grpc::StatusCode::INVALID_ARGUMENT,
                       "validation_dataset and validation_x"));
  v1::TrainRequest missing;
  missing.set_name("m");
  missing.set_dataset("nope");
  EXPECT_THAT(RunTrain(stub(), missing).status,
              StatusIs(grpc::StatusCode::NOT_FOUND, "dataset 'nope'"));
  v1::TrainRequest wide;
  wide.set_name("wide");
  wide.set_dataset("d");
  EXPECT_THAT(RunTrain(stub(), wide).status,
              StatusIs(grpc::StatusCode::INVALID_ARGUMENT,
                       "dataset 'd' has 2 features per row; the model's input "
                       "size is 3"));
  // A rejected Train leaves the dataset unused.
  v1::DatasetInfo info;
  ASSERT_TRUE(GetDataset(stub(), "d", &info).ok());
  EXPECT_EQ(info.trainings_using(), 0);
}

TEST_F(DatasetServiceTest,
       ADatasetDeletedDuringTrainingLivesUntilTheTrainEnds) {
  const ToyData data = TwoBlobs(400, 5);
  ASSERT_TRUE(UploadToy(stub(), "d", data, 100).status.ok());
  CreateOrDie(stub(), ClassifierRequest("m", {2, 64, 2}));
  v1::TrainRequest request;
  request.set_name("m");
  request.set_dataset("d");
  request.set_epochs(100000);
  request.set_batch_size(2);
  BackgroundTrain train(stub(), request);
  ASSERT_TRUE(train.WaitForEpochEnds(1));
  v1::DatasetInfo info;
  ASSERT_TRUE(GetDataset(stub(), "d", &info).ok());
  EXPECT_EQ(info.trainings_using(), 1);
  v1::DeleteDatasetResponse deleted;
  ASSERT_TRUE(DeleteDataset(stub(), "d", &deleted).ok());
  EXPECT_EQ(deleted.trainings_using(), 1);
  // The name is free at once; the running Train still reads the old rows.
  EXPECT_TRUE(ListDatasets(stub()).empty());
  ASSERT_TRUE(train.WaitForEpochEnds(2));
  EXPECT_GT(server_->server().datasets().budget().used(), 0);
  train.Cancel();
  EXPECT_EQ(train.Join().error_code(), grpc::StatusCode::CANCELLED);
  // Its memory goes back to the budget when the Train's handler lets go
  // (the client may see CANCELLED a moment before that).
  const MemoryBudget& budget = server_->server().datasets().budget();
  for (int i = 0; i < 1000 && budget.used() != 0; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(budget.used(), 0);
}

class DatasetPersistenceTest : public DatasetServiceTest {
 protected:
  void SetUp() override { StartServer(Options()); }
  // The server (a base member) goes before the directory it writes in.
  void TearDown() override { server_.reset(); }
  ServerOptions Options() const {
    ServerOptions options = TestServerOptions();
    options.model_dir = model_dir_;
    return options;
  }
  const data::test_files::TempDir temp_dir_;
  const std::string model_dir_ = temp_dir_.path();
};

TEST_F(DatasetPersistenceTest,
       DatasetsSurviveARestartAndCorruptFilesMoveAside) {
  const ToyData data = TwoBlobs(40, 5);
  const UploadResult kept = UploadToy(stub(), "kept", data, 16);
  ASSERT_TRUE(kept.status.ok()) << kept.status.error_message();
  ASSERT_TRUE(UploadToy(stub(), "gone", data, 16).status.ok());
  ASSERT_TRUE(UploadToy(stub(), "broken", data, 16).status.ok());
  v1::DeleteDatasetResponse deleted;
  ASSERT_TRUE(DeleteDataset(stub(), "gone", &deleted).ok());
  const std::string broken = model_dir_ + "/datasets/broken.dataset";
  ASSERT_TRUE(std::filesystem::exists(broken));
  server_.reset();
  {
    // One flipped bit in the rows.
    std::fstream file(broken, std::ios::in | std::ios::out | std::ios::binary);
    file.seekg(100);
    char byte = 0;
    file.read(&byte, 1);
    byte = static_cast<char>(byte ^ 0x10);
    file.seekp(100);
    file.write(&byte, 1);
  }
  StartServer(Options());
  const std::vector<v1::DatasetInfo> list = ListDatasets(stub());
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].SerializeAsString(),
            kept.response.dataset().SerializeAsString());
  EXPECT_FALSE(std::filesystem::exists(broken));
  EXPECT_TRUE(std::filesystem::exists(broken + ".corrupt"));

  // The reloaded rows train exactly like the inline ones.
  CreateOrDie(stub(), ClassifierRequest("inline", {2, 5, 2}, 3));
  CreateOrDie(stub(), ClassifierRequest("stored", {2, 5, 2}, 3));
  v1::TrainRequest request = TrainRequestFor("inline", data, 2, 8);
  ASSERT_TRUE(RunTrain(stub(), request).status.ok());
  v1::TrainRequest stored = request;
  stored.set_name("stored");
  stored.clear_x();
  stored.clear_labels();
  stored.set_dataset("kept");
  ASSERT_TRUE(RunTrain(stub(), stored).status.ok());
  ExpectSameParameters(ParametersOrDie(stub(), "inline"),
                       ParametersOrDie(stub(), "stored"));
}

}  // namespace
}  // namespace bnmlp::testing
