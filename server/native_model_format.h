// The seam where bnmlp's native model file (FORMAT_BNMLP) plugs into
// ExportModel and ImportModel. The native format is the model store's
// (DESIGN.md section 7): the same bytes as a stored version, with the
// optimizer state and training metadata needed to resume training, which
// live beside the registry's snapshots rather than in them. Until the store
// provides an implementation, the server uses UnimplementedNativeModelFormat.
#ifndef BNMLP_SERVER_NATIVE_MODEL_FORMAT_H_
#define BNMLP_SERVER_NATIVE_MODEL_FORMAT_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/model_registry.h"

namespace bnmlp {

// A model version as a file.
struct ExportedModelFile {
  std::string bytes;
  int64_t version = 0;  // the version exported
};

// Implementations are thread-safe: every method may run concurrently with
// every other and with the registry's.
class NativeModelFormat {
 public:
  virtual ~NativeModelFormat() = default;

  // OK if this server reads and writes native files; otherwise why not
  // (checked before an import's chunks are received).
  virtual absl::Status Available() const = 0;

  // Model `name` at `version` (0: the latest; another: a retained version,
  // NOT_FOUND naming the retained ones otherwise) as a native file.
  virtual absl::StatusOr<ExportedModelFile> Export(absl::string_view name,
                                                   int64_t version) = 0;

  // Creates model `name` from native file `bytes` (already checked against
  // the header's size and CRC-32), with its training state: either the model
  // exists afterwards, durable when there is a store, or nothing changed.
  // INVALID_ARGUMENT naming what does not fit in the file.
  virtual absl::StatusOr<ModelStatus> Import(absl::string_view name,
                                             absl::string_view bytes) = 0;
};

// UNIMPLEMENTED for every call, saying that the native format arrives with
// the model store and that FORMAT_ONNX works now.
std::shared_ptr<NativeModelFormat> UnimplementedNativeModelFormat();

// The model store's format (server/store/model_record.h) over `registry`
// (not owned; must outlive the result), with or without a store. Import
// checks the frame (INVALID_ARGUMENT for a truncated file or a bad
// checksum) and every tensor before anything is registered, and keeps the
// file's optimizer state so training can resume.
std::shared_ptr<NativeModelFormat> StoreNativeModelFormat(
    ModelRegistry* registry);

}  // namespace bnmlp

#endif  // BNMLP_SERVER_NATIVE_MODEL_FORMAT_H_
