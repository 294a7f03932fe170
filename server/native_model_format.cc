#include "server/native_model_format.h"

#include <string>
#include <utility>

#include "common/status_macros.h"
#include "server/store/model_record.h"

namespace bnmlp {
namespace {

constexpr char kNotYet[] =
    "format FORMAT_BNMLP (bnmlp's native file, the default format): not "
    "implemented yet on this server; it arrives with the model store "
    "(--model_dir). Use format FORMAT_ONNX";

class Unimplemented final : public NativeModelFormat {
 public:
  absl::Status Available() const override {
    return absl::UnimplementedError(kNotYet);
  }
  absl::StatusOr<ExportedModelFile> Export(absl::string_view /*name*/,
                                           int64_t /*version*/) override {
    return absl::UnimplementedError(kNotYet);
  }
  absl::StatusOr<ModelStatus> Import(absl::string_view /*name*/,
                                     absl::string_view /*bytes*/) override {
    return absl::UnimplementedError(kNotYet);
  }
};

class StoreFormat final : public NativeModelFormat {
 public:
  explicit StoreFormat(ModelRegistry* registry) : registry_(registry) {}

  absl::Status Available() const override { return absl::OkStatus(); }
  absl::StatusOr<ExportedModelFile> Export(absl::string_view name,
                                           int64_t version) override {
    BNMLP_ASSIGN_OR_RETURN(ModelSnapshot snapshot,
                           registry_->GetSnapshot(name, version));
    BNMLP_ASSIGN_OR_RETURN(std::string bytes, registry_->ExportVersionFile(
                                                  name, snapshot.version));
    return ExportedModelFile{std::move(bytes), snapshot.version};
  }
  absl::StatusOr<ModelStatus> Import(absl::string_view name,
                                     absl::string_view bytes) override {
    BNMLP_ASSIGN_OR_RETURN(
        ModelVersion version,
        DecodeModelVersionFile(bytes, registry_->limits().max_parameters));
    return registry_->InsertVersion(name, version);
  }

 private:
  ModelRegistry* const registry_;
};

}  // namespace

std::shared_ptr<NativeModelFormat> UnimplementedNativeModelFormat() {
  return std::make_shared<Unimplemented>();
}

std::shared_ptr<NativeModelFormat> StoreNativeModelFormat(
    ModelRegistry* registry) {
  return std::make_shared<StoreFormat>(registry);
}

}  // namespace bnmlp
