#include "server/native_model_format.h"

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

}  // namespace

std::shared_ptr<NativeModelFormat> UnimplementedNativeModelFormat() {
  return std::make_shared<Unimplemented>();
}

}  // namespace bnmlp
