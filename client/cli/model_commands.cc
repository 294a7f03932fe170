// health, create, list, delete and params: one RPC each.
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "client/cli/commands.h"
#include "client/cli/enum_flag.h"
#include "client/cli/exit_codes.h"
#include "client/cli/flags.h"
#include "client/cli/interchange_commands.h"
#include "client/cli/json_output.h"
#include "client/cli/layer_spec.h"
#include "client/cli/model_text.h"
#include "common/status_macros.h"

namespace bnmlp::cli {
namespace {

using ServingStatus = grpc::health::v1::HealthCheckResponse::ServingStatus;

// Unset flags stay unset in the options, leaving the choice to the server's
// documented defaults.
absl::StatusOr<client::ModelOptions> ModelOptionsFromFlags() {
  client::ModelOptions options;
  BNMLP_ASSIGN_OR_RETURN(options.task, ParseOptionalEnumFlag<v1::Task>(
                                           "task", absl::GetFlag(FLAGS_task)));
  BNMLP_ASSIGN_OR_RETURN(
      options.normalization,
      ParseOptionalEnumFlag<v1::Normalization>(
          "normalization", absl::GetFlag(FLAGS_normalization)));
  BNMLP_ASSIGN_OR_RETURN(options.activation,
                         ParseOptionalEnumFlag<v1::Activation>(
                             "activation", absl::GetFlag(FLAGS_activation)));
  options.batch_norm_momentum = absl::GetFlag(FLAGS_bn_momentum);
  options.batch_norm_epsilon = absl::GetFlag(FLAGS_bn_eps);
  options.seed = absl::GetFlag(FLAGS_seed);
  return options;
}

}  // namespace

absl::StatusOr<std::string> NameFromFlags() {
  std::string name = absl::GetFlag(FLAGS_name);
  if (name.empty()) {
    return absl::InvalidArgumentError("--name is required: the model's name");
  }
  return name;
}

int RunHealth(const CommandContext& context) {
  const std::string service = absl::GetFlag(FLAGS_service);
  absl::StatusOr<ServingStatus> status = context.client->Health(service);
  if (!status.ok()) return FailRpc(status.status());
  const std::string status_name =
      grpc::health::v1::HealthCheckResponse::ServingStatus_Name(*status);
  if (context.json) {
    grpc::health::v1::HealthCheckResponse response;
    response.set_status(*status);
    std::cout << ToJson(response) << std::endl;
  } else {
    std::cout << context.client->address() << ": " << status_name << std::endl;
  }
  if (*status != grpc::health::v1::HealthCheckResponse::SERVING) {
    return Fail(
        kExitRpcError,
        absl::UnavailableError(absl::StrCat(
            "the server at ", context.client->address(),
            service.empty() ? "" : absl::StrCat(" (service '", service, "')"),
            " is ", status_name, ", not SERVING")));
  }
  return kExitOk;
}

int RunCreate(const CommandContext& context) {
  absl::StatusOr<std::string> name_or = NameFromFlags();
  if (!name_or.ok()) return FailUsage(name_or.status().message());
  const std::string& name = *name_or;
  if (absl::GetFlag(FLAGS_layers).empty()) {
    return FailUsage(
        "--layers is required: the layer sizes, e.g. --layers=784-256-128-10");
  }
  absl::StatusOr<std::vector<int64_t>> layer_sizes =
      ParseLayerSizes(absl::GetFlag(FLAGS_layers));
  if (!layer_sizes.ok()) return FailUsage(layer_sizes.status().message());
  absl::StatusOr<client::ModelOptions> options = ModelOptionsFromFlags();
  if (!options.ok()) return FailUsage(options.status().message());
  absl::StatusOr<v1::ModelInfo> info =
      context.client->CreateModel(name, *layer_sizes, *options);
  if (!info.ok()) return FailRpc(info.status());
  if (context.json) {
    std::cout << ToJson(*info) << std::endl;
  } else {
    std::cout << "created " << FormatModelInfo(*info) << std::flush;
  }
  return kExitOk;
}

int RunList(const CommandContext& context) {
  absl::StatusOr<std::vector<v1::ModelInfo>> models =
      context.client->ListModels();
  if (!models.ok()) return FailRpc(models.status());
  if (context.json) {
    v1::ListModelsResponse response;
    response.mutable_models()->Add(models->begin(), models->end());
    std::cout << ToJson(response) << std::endl;
  } else {
    std::cout << FormatModelTable(*models) << std::flush;
  }
  return kExitOk;
}

int RunDelete(const CommandContext& context) {
  absl::StatusOr<std::string> name_or = NameFromFlags();
  if (!name_or.ok()) return FailUsage(name_or.status().message());
  const std::string& name = *name_or;
  absl::StatusOr<bool> cancelled_training = context.client->DeleteModel(name);
  if (!cancelled_training.ok()) return FailRpc(cancelled_training.status());
  if (context.json) {
    v1::DeleteModelResponse response;
    response.set_cancelled_training(*cancelled_training);
    std::cout << ToJson(response) << std::endl;
  } else {
    std::cout << "deleted model '" << name << "'"
              << (*cancelled_training ? " (its running training was cancelled)"
                                      : "")
              << std::endl;
  }
  return kExitOk;
}

int RunParams(const CommandContext& context) {
  absl::StatusOr<std::string> name_or = NameFromFlags();
  if (!name_or.ok()) return FailUsage(name_or.status().message());
  const std::string& name = *name_or;
  absl::StatusOr<client::ModelParameters> parameters =
      context.client->GetParameters(name, absl::GetFlag(FLAGS_model_version));
  if (!parameters.ok()) return FailRpc(parameters.status());
  if (context.json) {
    std::cout << ToJson(client::ToParametersProto(*parameters)) << std::endl;
  } else {
    std::cout << FormatParameters(*parameters) << std::flush;
  }
  return kExitOk;
}

}  // namespace bnmlp::cli
