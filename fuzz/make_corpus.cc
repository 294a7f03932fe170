// Writes the fuzz targets' seed corpora: small valid inputs made with the
// project's own writers (the same encoders the server uses), so each target
// starts from files and requests it accepts. Run by fuzz/make_corpus:
//   bnmlp_fuzz_make_corpus <fuzz/corpus directory>
// The same build writes the same bytes (ONNX files record the build).
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <initializer_list>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "bnmlp/v1/bnmlp.pb.h"
#include "core/model.h"
#include "core/optimizer.h"
#include "core/stored_dataset.h"
#include "core/trainer.h"
#include "interchange/onnx_export.h"
#include "server/dataset_checksum.h"
#include "server/store/dataset_file.h"
#include "server/store/durable_file.h"
#include "server/store/model_record.h"

namespace bnmlp {
namespace {

[[noreturn]] void Fail(absl::string_view what) {
  std::cerr << "make_corpus: " << what << "\n";
  std::exit(1);
}

template <typename T>
T Must(absl::StatusOr<T> value, absl::string_view what) {
  if (!value.ok()) Fail(absl::StrCat(what, ": ", value.status().ToString()));
  return *std::move(value);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Fail(absl::StrCat("cannot read ", path));
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteSeed(const std::string& dir, absl::string_view name,
               absl::string_view bytes) {
  const std::string path = absl::StrCat(dir, "/", name);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) Fail(absl::StrCat("cannot write ", path));
}

// A selector byte followed by `rest`.
std::string Selected(uint8_t selector, absl::string_view rest) {
  return absl::StrCat(std::string(1, static_cast<char>(selector)), rest);
}

// One message of a stream as fuzz/fuzz_input.h's TakeMessage reads it.
std::string Framed(const google::protobuf::Message& message) {
  const std::string bytes = message.SerializeAsString();
  if (bytes.size() > 0xFFFF) Fail("a stream message over 64 KiB");
  return absl::StrCat(std::string(1, static_cast<char>(bytes.size() & 0xFF)),
                      std::string(1, static_cast<char>(bytes.size() >> 8)),
                      bytes);
}

std::string Gzipped(absl::string_view bytes) {
  z_stream stream{};
  // 15 + 16: a gzip header and trailer around the deflate stream.
  if (deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
                   Z_DEFAULT_STRATEGY) != Z_OK) {
    Fail("deflateInit2");
  }
  std::string out(deflateBound(&stream, bytes.size()) + 32, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  stream.avail_in = static_cast<uInt>(bytes.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  if (deflate(&stream, Z_FINISH) != Z_STREAM_END) Fail("deflate");
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

void SetTensor(std::initializer_list<int64_t> shape,
               const std::vector<float>& values, v1::Tensor* tensor) {
  for (int64_t size : shape) tensor->add_shape(size);
  for (float value : values) tensor->add_values(value);
}

// The fuzzers' model: 4 features, 8 hidden units, 3 classes.
Model<float> SmallModel() {
  ModelConfig config;
  config.layer_sizes = {4, 8, 3};
  config.seed = 7;
  return Must(Model<float>::Create(config), "Model::Create");
}

ModelVersion TrainedVersion() {
  Model<float> model = SmallModel();
  model.mutable_layer(0).running_mean.setConstant(0.25f);
  OptimizerOptions options;
  options.kind = OptimizerKind::kAdam;
  Optimizer<float> optimizer(options, model);
  auto checkpoint = std::make_shared<TrainingCheckpoint<float>>();
  checkpoint->optimizer = optimizer.ExportState();
  checkpoint->optimizer.steps = 3;
  checkpoint->epochs_completed = 1;
  TrainingProgress progress;
  progress.epoch = 1;
  progress.epochs = 1;
  progress.loss = 0.5;
  progress.epoch_end = true;
  return ModelVersion{"m", 2,
                      std::make_shared<const Model<float>>(std::move(model)),
                      std::move(checkpoint), progress};
}

ModelVersion UntrainedVersion() {
  return ModelVersion{"m", 1,
                      std::make_shared<const Model<float>>(SmallModel()),
                      nullptr, std::nullopt};
}

std::string OnnxFile(bool fold_batch_norm) {
  OnnxExportOptions options;
  options.fold_batch_norm = fold_batch_norm;
  return Must(ExportOnnx(SmallModel(), options), "ExportOnnx");
}

const std::vector<float> kFeatures = {0.5f, -1, 2, 0,  1, 1.5f, -0.25f, 3,
                                      0,    2,  1, -1, 4, 0.5f, 0.75f,  -2};
const std::vector<int32_t> kLabels = {0, 2, 1, 2};

std::string DatasetFile(const std::string& scratch) {
  RowLayout layout;
  layout.features = 4;
  DatasetBuilder builder = Must(DatasetBuilder::Create(layout), "builder");
  if (!builder.AppendFeatures(ConstMatrixMap<float>(kFeatures.data(), 4, 4))
           .ok() ||
      !builder.AppendLabels(kLabels).ok()) {
    Fail("DatasetBuilder::Append");
  }
  StoredDataset data = Must(std::move(builder).Finish(), "Finish");
  ContentChecksum checksum;
  checksum.AddFeatures(kFeatures);
  checksum.AddLabels(kLabels);
  const std::string path = absl::StrCat(scratch, "/seed.dataset");
  if (!WriteDatasetFile(path, data, checksum.Value()).ok()) {
    Fail("WriteDatasetFile");
  }
  std::string bytes = ReadFile(path);
  std::remove(path.c_str());
  return bytes;
}

void RpcRequests(const std::string& dir) {
  v1::CreateModelRequest create;
  create.set_name("c");
  for (int64_t size : {4, 8, 3}) create.add_layer_sizes(size);
  WriteSeed(dir, "create_model", Selected(0, create.SerializeAsString()));

  v1::TrainRequest train;
  train.set_name("m");
  SetTensor({4, 4}, kFeatures, train.mutable_x());
  for (int32_t label : kLabels) train.add_labels(label);
  SetTensor({1, 4}, {1, 2, 3, 4}, train.mutable_validation_x());
  train.add_validation_labels(1);
  train.set_epochs(2);
  train.set_batch_size(2);
  WriteSeed(dir, "train", Selected(1, train.SerializeAsString()));

  v1::PredictRequest predict;
  predict.set_name("m");
  SetTensor({2, 4}, {1, 2, 3, 4, -1, 0, 0.5f, 2}, predict.mutable_x());
  WriteSeed(dir, "predict", Selected(2, predict.SerializeAsString()));

  v1::GetParametersRequest parameters;
  parameters.set_name("m");
  parameters.set_version(1);
  WriteSeed(dir, "get_parameters", Selected(3, parameters.SerializeAsString()));
  v1::GetModelRequest get;
  get.set_name("m");
  WriteSeed(dir, "get_model", Selected(4, get.SerializeAsString()));
  v1::DeleteModelRequest remove;
  remove.set_name("gone");
  WriteSeed(dir, "delete_model", Selected(5, remove.SerializeAsString()));

  v1::UploadDatasetRequest header;
  header.mutable_header()->set_name("d");
  header.mutable_header()->set_features(4);
  header.mutable_header()->set_target_kind(v1::TARGET_KIND_CLASS_LABELS);
  v1::UploadDatasetRequest chunk;
  SetTensor({4, 4}, kFeatures, chunk.mutable_chunk()->mutable_x());
  for (int32_t label : kLabels) chunk.mutable_chunk()->add_labels(label);
  WriteSeed(dir, "upload_dataset",
            Selected(6, absl::StrCat(Framed(header), Framed(chunk))));

  v1::ExportModelRequest export_request;
  export_request.set_name("m");
  export_request.set_format(v1::FORMAT_ONNX);
  WriteSeed(dir, "export_model",
            Selected(7, export_request.SerializeAsString()));

  const std::pair<v1::Format, std::string> files[] = {
      {v1::FORMAT_ONNX, OnnxFile(false)},
      {v1::FORMAT_BNMLP, EncodeModelVersionFile(TrainedVersion())}};
  for (const auto& [format, file] : files) {
    v1::ImportModelRequest import_header;
    import_header.mutable_header()->set_name("i");
    import_header.mutable_header()->set_format(format);
    import_header.mutable_header()->set_size_bytes(
        static_cast<int64_t>(file.size()));
    v1::ImportModelRequest import_chunk;
    import_chunk.set_chunk(file);
    WriteSeed(
        dir, absl::StrCat("import_model_", v1::Format_Name(format)),
        Selected(8, absl::StrCat(Framed(import_header), Framed(import_chunk))));
  }
}

void DataReaders(const std::string& dir) {
  // Selector 0 (CSV), then the option bytes of fuzz_data_readers.cc:
  // kinds = task + 3 * header, delimiter index, column (0xFF: -1).
  const std::string csv = "x1,x2,x3,label\n0.5,1,2,0\n-1,3.25,0,2\n4,5,6,1\n";
  WriteSeed(dir, "csv_classification",
            absl::StrCat(std::string("\x00\x00\x00\xFF", 4), csv));
  WriteSeed(dir, "csv_classification_gz",
            absl::StrCat(std::string("\x00\x00\x00\xFF", 4), Gzipped(csv)));
  WriteSeed(dir, "csv_label_first_no_header",
            absl::StrCat(std::string("\x00\x06\x00\x00", 4),
                         "1,0.5,2\r\n0,1e3,-2\r\n"));
  WriteSeed(dir, "tsv_regression",
            absl::StrCat(std::string("\x00\x01\x01\xFF", 4),
                         "a\tb\ty\n1\t2\t0.5\n3\t4\t-1.5\n\n"));
  WriteSeed(dir, "csv_features_only_header_present",
            absl::StrCat(std::string("\x00\x05\x02\xFF", 4),
                         "\xEF\xBB\xBF"
                         "0;1\n7;8\n9;10\n"));
  // Selector 1 (IDX images), scale byte, then the file: 3 images of 2 x 2.
  const std::string images = absl::StrCat(
      std::string("\x00\x00\x08\x03\x00\x00\x00\x03\x00\x00\x00\x02"
                  "\x00\x00\x00\x02",
                  16),
      std::string("\x00\x10\x20\xFF\x01\x02\x03\x04\x80\x81\x82\x83", 12));
  WriteSeed(dir, "idx_images",
            absl::StrCat(std::string("\x01\x00", 2), images));
  WriteSeed(dir, "idx_images_gz",
            absl::StrCat(std::string("\x01\x01", 2), Gzipped(images)));
  // Selector 2 (IDX labels).
  WriteSeed(dir, "idx_labels",
            absl::StrCat(std::string("\x02\x00\x00\x08\x01\x00\x00\x00\x03", 9),
                         std::string("\x00\x09\x03", 3)));
}

void StoreFiles(const std::string& dir, const std::string& scratch) {
  WriteSeed(dir, "version_trained",
            Selected(0, EncodeModelVersionFile(TrainedVersion())));
  WriteSeed(dir, "version_untrained",
            Selected(0, EncodeModelVersionFile(UntrainedVersion())));
  StoredTrainingState state;
  state.state = TrainingState::kFailed;
  state.last_error = "training diverged at epoch 1";
  state.last_progress = TrainedVersion().progress;
  WriteSeed(dir, "state",
            Selected(1, FrameInMemory(kTrainingStateMagic, kTrainingStateFormat,
                                      EncodeTrainingStatePayload(state))));
  WriteSeed(dir, "dataset", Selected(2, DatasetFile(scratch)));
}

void Importers(const std::string& dir) {
  WriteSeed(dir, "onnx", Selected(0, OnnxFile(false)));
  WriteSeed(dir, "onnx_folded", Selected(0, OnnxFile(true)));
  WriteSeed(dir, "native_trained",
            Selected(1, EncodeModelVersionFile(TrainedVersion())));
  WriteSeed(dir, "native_untrained",
            Selected(1, EncodeModelVersionFile(UntrainedVersion())));
}

}  // namespace
}  // namespace bnmlp

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: " << argv[0] << " <corpus directory> <scratch dir>\n";
    return 2;
  }
  const std::string corpus = argv[1];
  bnmlp::RpcRequests(corpus + "/fuzz_rpc_requests");
  bnmlp::DataReaders(corpus + "/fuzz_data_readers");
  bnmlp::StoreFiles(corpus + "/fuzz_store_files", argv[2]);
  bnmlp::Importers(corpus + "/fuzz_importers");
  return 0;
}
