#include "client/cli/interchange_commands.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "client/cli/enum_flag.h"
#include "client/cli/exit_codes.h"
#include "client/cli/json_output.h"
#include "client/cli/model_file_format.h"
#include "client/cli/model_text.h"
#include "client/cli/transfer_progress.h"
#include "common/file_contents.h"
#include "google/protobuf/struct.pb.h"

ABSL_FLAG(std::string, output, "",
          "export: the file to write (its extension, .onnx or .bnmlp, "
          "chooses the format unless --format is given)");
ABSL_FLAG(std::string, file, "",
          "import: the model file to read (.onnx or .bnmlp, or --format)");
ABSL_FLAG(std::string, format, "",
          "onnx or bnmlp (bnmlp's native file, with everything needed to "
          "resume training); default: from the file's extension");
ABSL_FLAG(bool, fold_batch_norm, false,
          "export --format onnx: fold each BatchNorm into a product (fewer "
          "nodes, the same outputs within 1e-5)");
ABSL_FLAG(int64_t, model_version, 0,
          "export, predict, params: the model version to use (a retained "
          "one, see ModelInfo.retained_versions); 0 means the latest");

namespace bnmlp::cli {
namespace {

constexpr int kTerminalWidth = 80;

absl::Status FileError(absl::string_view what, absl::string_view path) {
  return absl::InvalidArgumentError(
      absl::StrCat("cannot ", what, " ", path, ": ", std::strerror(errno)));
}

// Written to PATH.tmp and renamed, so a failed export never leaves a
// partial file under the name asked for.
absl::Status WriteWholeFile(const std::string& path, const std::string& bytes) {
  const std::string temp = path + ".tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) return FileError("write", temp);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out.flush()) return FileError("write", temp);
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    const absl::Status status = FileError("write", path);
    std::remove(temp.c_str());
    return status;
  }
  return absl::OkStatus();
}

// The same status, its message prefixed with `context`.
absl::Status WithContext(const absl::Status& status,
                         absl::string_view context) {
  return absl::Status(status.code(),
                      absl::StrCat(context, ": ", status.message()));
}

std::string FormatName(v1::Format format) { return EnumFlagName(format); }

}  // namespace

int RunExport(const CommandContext& context) {
  absl::StatusOr<std::string> name = NameFromFlags();
  if (!name.ok()) return FailUsage(name.status().message());
  const std::string output = absl::GetFlag(FLAGS_output);
  if (output.empty()) {
    return FailUsage("--output is required: the file to write, e.g. m.onnx");
  }
  absl::StatusOr<v1::Format> format =
      ModelFileFormat(absl::GetFlag(FLAGS_format), output);
  if (!format.ok()) return FailUsage(format.status().message());
  const int64_t version = absl::GetFlag(FLAGS_model_version);
  if (version < 0) return FailUsage("--model_version must be >= 0");
  const bool fold = absl::GetFlag(FLAGS_fold_batch_norm);

  TransferProgress progress(&std::cerr, isatty(STDERR_FILENO) != 0,
                            absl::StrCat("exporting ", output), kTerminalWidth);
  absl::StatusOr<client::ExportedModelFile> file = context.client->ExportModel(
      *name, *format, fold, version, [&progress](int64_t done, int64_t total) {
        progress.Update(done, total);
      });
  progress.Finish();
  if (!file.ok()) {
    return FailRpc(
        WithContext(file.status(), absl::StrCat("exporting to ", output)));
  }
  if (absl::Status written = WriteWholeFile(output, file->bytes);
      !written.ok()) {
    return Fail(kExitInputError, written);
  }
  if (context.json) {
    google::protobuf::Struct result;
    auto& fields = *result.mutable_fields();
    fields["name"].set_string_value(*name);
    fields["version"].set_string_value(absl::StrCat(file->version));
    fields["format"].set_string_value(v1::Format_Name(*format));
    fields["file"].set_string_value(output);
    fields["bytes"].set_string_value(absl::StrCat(file->bytes.size()));
    fields["foldBatchNorm"].set_bool_value(fold);
    std::cout << ToJson(result) << std::endl;
  } else {
    std::cout << "exported model '" << *name << "' version " << file->version
              << " to " << output << " (" << FormatName(*format) << ", "
              << file->bytes.size() << " bytes"
              << (fold ? ", BatchNorm folded" : "") << ")" << std::endl;
  }
  return kExitOk;
}

int RunImport(const CommandContext& context) {
  absl::StatusOr<std::string> name = NameFromFlags();
  if (!name.ok()) return FailUsage(name.status().message());
  const std::string path = absl::GetFlag(FLAGS_file);
  if (path.empty()) {
    return FailUsage("--file is required: the model file to import");
  }
  absl::StatusOr<v1::Format> format =
      ModelFileFormat(absl::GetFlag(FLAGS_format), path);
  if (!format.ok()) return FailUsage(format.status().message());
  absl::StatusOr<std::string> bytes = ReadFileContents(path);
  if (!bytes.ok()) return Fail(kExitInputError, bytes.status());

  TransferProgress progress(&std::cerr, isatty(STDERR_FILENO) != 0,
                            absl::StrCat("importing ", path), kTerminalWidth);
  absl::StatusOr<v1::ModelInfo> info = context.client->ImportModel(
      *name, *format, *bytes, [&progress](int64_t done, int64_t total) {
        progress.Update(done, total);
      });
  progress.Finish();
  if (!info.ok()) {
    return FailRpc(
        WithContext(info.status(), absl::StrCat("importing ", path)));
  }
  if (context.json) {
    std::cout << ToJson(*info) << std::endl;
    return kExitOk;
  }
  std::cout << "imported " << path << " as model '" << info->name() << "'\n"
            << FormatModelInfo(*info);
  if (*format == v1::FORMAT_ONNX && info->task() == v1::TASK_REGRESSION) {
    std::cout << "note: the file does not end in Softmax, so the model is a "
                 "regression model that outputs what the file computes; for "
                 "a classifier, export nn.Sequential(model, "
                 "nn.Softmax(dim=1))\n";
  }
  std::cout << std::flush;
  return kExitOk;
}

}  // namespace bnmlp::cli
