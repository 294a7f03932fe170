// ExportModel and ImportModel through a real channel: chunking, checksums,
// formats, versions, limits, and imported models behaving like any other.
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/model_files.h"
#include "tests/server/server_test_util.h"

namespace bnmlp::testing {
namespace {

using ::testing::HasSubstr;

struct Exported {
  grpc::Status status;
  std::vector<v1::ExportModelResponse> messages;
  std::string bytes;
};

Exported Export(v1::BnMlpService::Stub& stub, const std::string& name,
                v1::Format format, bool fold = false, int64_t version = 0) {
  v1::ExportModelRequest request;
  request.set_name(name);
  request.set_format(format);
  request.set_fold_batch_norm(fold);
  request.set_version(version);
  std::unique_ptr<grpc::ClientContext> context = Context();
  auto reader = stub.ExportModel(context.get(), request);
  Exported out;
  v1::ExportModelResponse response;
  while (reader->Read(&response)) {
    out.bytes += response.chunk();
    out.messages.push_back(response);
  }
  out.status = reader->Finish();
  return out;
}

v1::ImportModelHeader OnnxHeader(const std::string& name) {
  v1::ImportModelHeader header;
  header.set_name(name);
  header.set_format(v1::FORMAT_ONNX);
  return header;
}

struct Imported {
  grpc::Status status;
  v1::ImportModelResponse response;
};

// Sends `header` then `bytes` in chunks of `chunk` bytes.
Imported Import(v1::BnMlpService::Stub& stub,
                const v1::ImportModelHeader& header, const std::string& bytes,
                size_t chunk = 1 << 20) {
  std::unique_ptr<grpc::ClientContext> context = Context();
  Imported out;
  auto writer = stub.ImportModel(context.get(), &out.response);
  v1::ImportModelRequest request;
  *request.mutable_header() = header;
  bool open = writer->Write(request);
  for (size_t offset = 0; open && offset < bytes.size(); offset += chunk) {
    request.set_chunk(bytes.substr(offset, chunk));
    open = writer->Write(request);
  }
  writer->WritesDone();
  out.status = writer->Finish();
  return out;
}

v1::PredictResponse PredictOrDie(v1::BnMlpService::Stub& stub,
                                 const std::string& name, const v1::Tensor& x) {
  v1::PredictRequest request;
  request.set_name(name);
  *request.mutable_x() = x;
  v1::PredictResponse response;
  std::unique_ptr<grpc::ClientContext> context = Context();
  const grpc::Status status = stub.Predict(context.get(), request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response;
}

class InterchangeServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(TestServerOptions()); }

  void Start(const ServerOptions& options) {
    absl::StatusOr<std::unique_ptr<InProcessServer>> server =
        InProcessServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  // A trained classifier, so its running statistics are not trivial.
  void CreateTrained(const std::string& name, std::vector<int64_t> sizes) {
    CreateOrDie(stub(), ClassifierRequest(name, std::move(sizes)));
    const TrainResult trained =
        RunTrain(stub(), TrainRequestFor(name, TwoBlobs(64, 3), 2, 16));
    ASSERT_TRUE(trained.status.ok()) << trained.status.error_message();
  }

  v1::BnMlpService::Stub& stub() { return server_->stub(); }
  std::unique_ptr<InProcessServer> server_;
};

TEST_F(InterchangeServiceTest, ExportsOnnxWithFiguresOnTheFirstChunk) {
  CreateTrained("m", {2, 8, 2});
  const Exported exported = Export(stub(), "m", v1::FORMAT_ONNX);
  ASSERT_TRUE(exported.status.ok()) << exported.status.error_message();
  ASSERT_EQ(exported.messages.size(), 1u);
  EXPECT_EQ(exported.messages[0].size_bytes(),
            static_cast<int64_t>(exported.bytes.size()));
  EXPECT_EQ(exported.messages[0].version(), ModelOrDie(stub(), "m").version());
  EXPECT_EQ(exported.messages[0].crc32(), FileCrc32(exported.bytes));
  // Version 0 and the latest version by number give the same file.
  EXPECT_EQ(Export(stub(), "m", v1::FORMAT_ONNX, false,
                   exported.messages[0].version())
                .bytes,
            exported.bytes);
}

TEST_F(InterchangeServiceTest, LargeFilesTravelInChunksOfAtMostOneMiB) {
  CreateOrDie(stub(), ClassifierRequest("big", {700, 700, 2}));  // ~2 MB
  const Exported exported = Export(stub(), "big", v1::FORMAT_ONNX);
  ASSERT_TRUE(exported.status.ok()) << exported.status.error_message();
  ASSERT_GE(exported.messages.size(), 2u);
  for (const v1::ExportModelResponse& m : exported.messages) {
    EXPECT_LE(static_cast<int64_t>(m.chunk().size()), kModelFileChunkBytes);
  }
  const Imported imported =
      Import(stub(), OnnxHeader("big2"), exported.bytes, 1 << 20);
  ASSERT_TRUE(imported.status.ok()) << imported.status.error_message();
}

TEST_F(InterchangeServiceTest, ExportThenImportPredictsTheSame) {
  CreateTrained("m", {2, 8, 2});
  for (bool fold : {false, true}) {
    const std::string name = fold ? "folded" : "unfolded";
    const Exported exported = Export(stub(), "m", v1::FORMAT_ONNX, fold);
    ASSERT_TRUE(exported.status.ok()) << exported.status.error_message();
    v1::ImportModelHeader header = OnnxHeader(name);
    header.set_size_bytes(static_cast<int64_t>(exported.bytes.size()));
    header.set_crc32(exported.messages[0].crc32());
    const Imported imported = Import(stub(), header, exported.bytes, 100);
    ASSERT_TRUE(imported.status.ok()) << imported.status.error_message();
    const v1::ModelInfo& info = imported.response.model();
    EXPECT_EQ(info.name(), name);
    EXPECT_EQ(info.version(), 1);
    EXPECT_EQ(info.task(), v1::TASK_CLASSIFICATION);
    EXPECT_EQ(info.normalization(),
              fold ? v1::NORMALIZATION_NONE : v1::NORMALIZATION_PRE_ACTIVATION);
    const ToyData data = TwoBlobs(16, 9);
    const v1::PredictResponse a = PredictOrDie(stub(), "m", data.x);
    const v1::PredictResponse b = PredictOrDie(stub(), name, data.x);
    ASSERT_EQ(a.outputs().values_size(), b.outputs().values_size());
    for (int i = 0; i < a.outputs().values_size(); ++i) {
      EXPECT_NEAR(a.outputs().values(i), b.outputs().values(i),
                  fold ? 1e-5 : 1e-6);
    }
    EXPECT_EQ(a.classes().size(), b.classes().size());
  }
}

TEST_F(InterchangeServiceTest, AnImportedModelTrainsAndShowsItsParameters) {
  CreateTrained("m", {2, 8, 2});
  const Exported exported = Export(stub(), "m", v1::FORMAT_ONNX);
  ASSERT_TRUE(Import(stub(), OnnxHeader("copy"), exported.bytes).status.ok());
  const v1::GetParametersResponse original = ParametersOrDie(stub(), "m");
  const v1::GetParametersResponse copy = ParametersOrDie(stub(), "copy");
  ASSERT_EQ(copy.layers_size(), original.layers_size());
  EXPECT_EQ(copy.layers(0).running_var().values(0),
            original.layers(0).running_var().values(0));
  const TrainResult trained =
      RunTrain(stub(), TrainRequestFor("copy", TwoBlobs(64, 4), 1, 16));
  ASSERT_TRUE(trained.status.ok()) << trained.status.error_message();
  EXPECT_EQ(ModelOrDie(stub(), "copy").version(), 2);
}

v1::GetParametersResponse ParamsOrDie(v1::BnMlpService::Stub& stub,
                                      const std::string& name) {
  v1::GetParametersRequest request;
  request.set_name(name);
  v1::GetParametersResponse response;
  std::unique_ptr<grpc::ClientContext> context = Context();
  const grpc::Status status =
      stub.GetParameters(context.get(), request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response;
}

v1::ImportModelHeader NativeHeader(const std::string& name) {
  v1::ImportModelHeader header;
  header.set_name(name);
  header.set_format(v1::FORMAT_BNMLP);
  return header;
}

// Export, delete, import: the same parameters and predictions, and training
// resumes from the file's optimizer state.
TEST_F(InterchangeServiceTest, NativeFileRoundTripsAndTrainingResumes) {
  CreateTrained("m", {2, 4, 2});
  const v1::GetParametersResponse before = ParamsOrDie(stub(), "m");
  const ToyData probe = TwoBlobs(10, 9);
  const v1::PredictResponse predicted = PredictOrDie(stub(), "m", probe.x);
  const Exported file = Export(stub(), "m", v1::FORMAT_UNSPECIFIED);
  ASSERT_TRUE(file.status.ok()) << file.status.error_message();
  EXPECT_EQ(file.bytes.substr(0, 8), "BNMLPMDL");
  EXPECT_EQ(file.messages.front().version(), before.version());
  {
    v1::DeleteModelRequest request;
    request.set_name("m");
    v1::DeleteModelResponse response;
    ASSERT_TRUE(stub().DeleteModel(Context().get(), request, &response).ok());
  }
  const Imported imported = Import(stub(), NativeHeader("m"), file.bytes, 100);
  ASSERT_TRUE(imported.status.ok()) << imported.status.error_message();
  v1::GetParametersResponse after = ParamsOrDie(stub(), "m");
  after.set_version(before.version());
  EXPECT_EQ(after.SerializeAsString(), before.SerializeAsString());
  const v1::PredictResponse again = PredictOrDie(stub(), "m", probe.x);
  EXPECT_EQ(again.outputs().SerializeAsString(),
            predicted.outputs().SerializeAsString());

  v1::TrainRequest resume = TrainRequestFor("m", TwoBlobs(64, 3), 1, 16);
  resume.set_resume(true);
  const TrainResult resumed = RunTrain(stub(), resume);
  EXPECT_TRUE(resumed.status.ok()) << resumed.status.error_message();
}

TEST_F(InterchangeServiceTest, HostileNativeFilesCreateNothing) {
  CreateTrained("m", {2, 4, 2});
  const std::string file = Export(stub(), "m", v1::FORMAT_BNMLP).bytes;
  ASSERT_GT(file.size(), 40u);
  EXPECT_THAT(
      Import(stub(), NativeHeader("x"), file.substr(0, file.size() - 7)).status,
      StatusIs(grpc::StatusCode::INVALID_ARGUMENT, "truncated"));
  std::string flipped = file;
  flipped[flipped.size() / 2] ^= 0x10;
  EXPECT_THAT(Import(stub(), NativeHeader("x"), flipped).status,
              StatusIs(grpc::StatusCode::INVALID_ARGUMENT, "checksum"));
  EXPECT_THAT(Import(stub(), NativeHeader("x"), "BNMLPMDL").status,
              StatusIs(grpc::StatusCode::INVALID_ARGUMENT, ""));
  v1::GetModelRequest request;
  request.set_name("x");
  v1::ModelInfo info;
  EXPECT_EQ(stub().GetModel(Context().get(), request, &info).error_code(),
            grpc::StatusCode::NOT_FOUND);
  // A model that never trained has nothing to resume from.
  CreateOrDie(stub(), ClassifierRequest("fresh", {2, 4, 2}));
  v1::TrainRequest resume = TrainRequestFor("fresh", TwoBlobs(64, 3), 1, 16);
  resume.set_resume(true);
  EXPECT_THAT(RunTrain(stub(), resume).status,
              StatusIs(grpc::StatusCode::FAILED_PRECONDITION, "resume"));
}

TEST_F(InterchangeServiceTest, ExportRefusesBadRequests) {
  CreateOrDie(stub(), ClassifierRequest("m", {2, 4, 2}));
  EXPECT_THAT(Export(stub(), "nope", v1::FORMAT_ONNX).status,
              StatusIs(grpc::StatusCode::NOT_FOUND, "'nope'"));
  EXPECT_THAT(Export(stub(), "m", v1::FORMAT_ONNX, false, 5).status,
              StatusIs(grpc::StatusCode::NOT_FOUND,
                       "version 5 is not retained; retained versions: 1"));
  EXPECT_THAT(Export(stub(), "m", v1::FORMAT_ONNX, false, -1).status,
              StatusIs(grpc::StatusCode::INVALID_ARGUMENT, "version:"));
  EXPECT_THAT(Export(stub(), "m", static_cast<v1::Format>(9)).status,
              StatusIs(grpc::StatusCode::INVALID_ARGUMENT, "format:"));
  EXPECT_THAT(Export(stub(), "m", v1::FORMAT_BNMLP, /*fold=*/true).status,
              StatusIs(grpc::StatusCode::INVALID_ARGUMENT, "fold_batch_norm"));
}

TEST_F(InterchangeServiceTest, ImportRefusesBadFilesAndCreatesNothing) {
  CreateOrDie(stub(), ClassifierRequest("m", {2, 4, 2}));
  const std::string file = Export(stub(), "m", v1::FORMAT_ONNX).bytes;
  EXPECT_THAT(Import(stub(), OnnxHeader("m"), file).status,
              StatusIs(grpc::StatusCode::ALREADY_EXISTS, "header.name"));
  EXPECT_THAT(Import(stub(), OnnxHeader("bad name"), file).status,
              StatusIs(grpc::StatusCode::INVALID_ARGUMENT, "header.name:"));
  EXPECT_THAT(
      Import(stub(), OnnxHeader("x"), "not onnx at all").status,
      StatusIs(grpc::StatusCode::INVALID_ARGUMENT, "not an ONNX model"));
  EXPECT_THAT(
      Import(stub(), OnnxHeader("x"), file.substr(0, file.size() / 2)).status,
      StatusIs(grpc::StatusCode::INVALID_ARGUMENT, ""));
  v1::ImportModelHeader wrong_crc = OnnxHeader("x");
  wrong_crc.set_crc32(FileCrc32(file) ^ 1);
  EXPECT_THAT(Import(stub(), wrong_crc, file).status,
              StatusIs(grpc::StatusCode::INVALID_ARGUMENT, "header.crc32"));
  v1::ImportModelHeader short_size = OnnxHeader("x");
  short_size.set_size_bytes(static_cast<int64_t>(file.size()) + 10);
  EXPECT_THAT(Import(stub(), short_size, file).status,
              StatusIs(grpc::StatusCode::INVALID_ARGUMENT, "short of"));
  EXPECT_THAT(Import(stub(), OnnxHeader("x"), "").status,
              StatusIs(grpc::StatusCode::INVALID_ARGUMENT, "empty"));
  v1::ListModelsResponse list;
  std::unique_ptr<grpc::ClientContext> context = Context();
  ASSERT_TRUE(stub().ListModels(context.get(), {}, &list).ok());
  EXPECT_EQ(list.models_size(), 1);
}

TEST_F(InterchangeServiceTest, ImportsOverTheParameterLimitAreRefused) {
  CreateOrDie(stub(), ClassifierRequest("m", {20, 20, 2}));  // 482 params
  const std::string file = Export(stub(), "m", v1::FORMAT_ONNX).bytes;
  ServerOptions options = TestServerOptions();
  options.limits.max_parameters = 100;
  Start(options);
  EXPECT_THAT(Import(stub(), OnnxHeader("m"), file).status,
              StatusIs(grpc::StatusCode::RESOURCE_EXHAUSTED, ""));
  v1::ImportModelHeader huge = OnnxHeader("m");
  huge.set_size_bytes(int64_t{1} << 30);
  EXPECT_THAT(
      Import(stub(), huge, file).status,
      StatusIs(grpc::StatusCode::RESOURCE_EXHAUSTED, "header.size_bytes"));
  // 100 parameters allow 16 x 100 bytes + 1 MiB: 2 MiB of chunks exceed it.
  EXPECT_THAT(
      Import(stub(), OnnxHeader("m"), std::string(2 << 20, 'x')).status,
      StatusIs(grpc::StatusCode::RESOURCE_EXHAUSTED, "--max_parameters"));
}

}  // namespace
}  // namespace bnmlp::testing
