// Fuzzes the two model importers as ImportModel runs them on a received
// file, with the server's default --max_parameters: ONNX
// (interchange/onnx_import.h's ImportOnnx, then ModelRegistry::Insert,
// which checks the parameters again) and bnmlp's native format
// (server/native_model_format.h over the registry: the frame, the record,
// every tensor, then InsertVersion). The first byte picks the format; the
// rest is the file. An imported model is deleted again, so every input
// meets an empty registry.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <utility>

#include "absl/status/statusor.h"
#include "core/model.h"
#include "fuzz/fuzz_input.h"
#include "google/protobuf/stubs/logging.h"
#include "interchange/onnx_import.h"
#include "server/model_registry.h"
#include "server/native_model_format.h"

namespace bnmlp {
namespace {

constexpr absl::string_view kName = "imported";

struct Importers {
  Importers()
      : registry(RegistryLimits{}),
        native_format(StoreNativeModelFormat(&registry)) {}
  ModelRegistry registry;  // the server's default limits
  std::shared_ptr<NativeModelFormat> native_format;
};

Importers& TheImporters() {
  static Importers importers;
  return importers;
}

void FuzzOneFile(fuzz::FuzzInput& input) {
  Importers& importers = TheImporters();
  absl::StatusOr<ModelStatus> imported;
  if (input.TakeByte() % 2 == 0) {
    OnnxImportOptions options;
    options.max_parameters = importers.registry.limits().max_parameters;
    absl::StatusOr<Model<float>> model = ImportOnnx(input.rest(), options);
    if (!model.ok()) return;
    imported = importers.registry.Insert(kName, *std::move(model));
  } else {
    imported = importers.native_format->Import(kName, input.rest());
  }
  if (!imported.ok()) return;
  absl::StatusOr<bool> deleted = importers.registry.Delete(kName);
  if (!deleted.ok()) std::abort();
}

}  // namespace
}  // namespace bnmlp

// Protobuf logs every message it refuses (invalid UTF-8 in a string
// field): millions of lines that slow the fuzzer and say nothing.
extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  bnmlp::fuzz::FuzzInput input(data, size);
  bnmlp::FuzzOneFile(input);
  return 0;
}
