// bnmlp export and bnmlp import: model files to and from the server
// (ExportModel, ImportModel), in ONNX or bnmlp's native format.
#ifndef BNMLP_CLIENT_CLI_INTERCHANGE_COMMANDS_H_
#define BNMLP_CLIENT_CLI_INTERCHANGE_COMMANDS_H_

#include <cstdint>
#include <string>

#include "absl/flags/declare.h"
#include "client/cli/commands.h"

ABSL_DECLARE_FLAG(std::string, output);
ABSL_DECLARE_FLAG(std::string, file);
ABSL_DECLARE_FLAG(std::string, format);
ABSL_DECLARE_FLAG(bool, fold_batch_norm);
ABSL_DECLARE_FLAG(int64_t, model_version);

namespace bnmlp::cli {

int RunExport(const CommandContext& context);
int RunImport(const CommandContext& context);

}  // namespace bnmlp::cli

#endif  // BNMLP_CLIENT_CLI_INTERCHANGE_COMMANDS_H_
