// bnmlp: the command-line client of the bnmlp server.
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "client/bnmlp_client.h"
#include "client/cli/command_line.h"
#include "client/cli/commands.h"
#include "client/cli/connection_security.h"
#include "client/cli/dataset_commands.h"
#include "client/cli/exit_codes.h"
#include "client/cli/flags.h"
#include "client/cli/interchange_commands.h"
#include "common/build_info.h"

namespace bnmlp::cli {
namespace {

constexpr char kIntro[] =
    "bnmlp: create, train, query and delete batch-normalized multilayer\n"
    "perceptrons on a bnmlp server.\n\n"
    "Options you leave out (epochs, batch size, learning rate, ...) take\n"
    "the server's defaults, which each command's --help names.\n\n"
    "Exit codes: 0 ok; 1 the server answered with an error; 2 usage error;\n"
    "3 server unreachable, unavailable or not answering in time; 4 an input\n"
    "file is missing, malformed or does not fit the model; 130 interrupted\n"
    "by Ctrl-C.\n\n"
    "bnmlp --version (or bnmlp version) prints the version and git commit.";

std::vector<std::string> CommonFlags() {
  return {"server", "json",        "timeout",       "lb_policy",   "token_file",
          "tls",    "tls_ca_file", "tls_cert_file", "tls_key_file"};
}

std::vector<std::string> CsvFlags() {
  return {"csv_label_column", "csv_target_columns", "csv_header",
          "csv_delimiter", "csv_feature_scale"};
}

std::vector<std::string> With(std::vector<std::string> flags,
                              const std::vector<std::string>& more) {
  flags.insert(flags.end(), more.begin(), more.end());
  return flags;
}

std::vector<CommandSpec> Commands() {
  return {
      {"health",
       "Check that the server is up (grpc.health.v1).",
       "Exits 0 if the server answers SERVING, 1 if it answers anything else,\n"
       "3 if it cannot be reached.",
       {"service"}},
      {"create",
       "Create a model.",
       "Example:\n  bnmlp create --name fmnist --layers 784-256-128-10 "
       "--normalization pre_activation --activation relu",
       {"name", "layers", "task", "normalization", "activation", "bn_momentum",
        "bn_eps", "seed"}},
      {"train", "Train a model on CSV or IDX files, showing progress.",
       "Reads CSV (features plus a label column, or target columns for\n"
       "regression models) or IDX images + labels, plain or gzip, uploads\n"
       "them as temporary datasets (deleted afterwards; or trains on\n"
       "--dataset, uploaded before) and shows the server's progress: a live "
       "bar on a\n"
       "terminal, one line per update otherwise (--json: one JSON object per\n"
       "update). Ctrl-C cancels the training; the model keeps the last\n"
       "version it published, and bnmlp exits with 130.\n\n"
       "Examples:\n"
       "  bnmlp train --name fmnist --fashion_mnist --epochs 10\n"
       "  bnmlp train --name iris --train_csv iris.csv --epochs 50 "
       "--batch_size 16",
       With({"name",
             "train_csv",
             "train_images",
             "train_labels",
             "validation_csv",
             "validation_images",
             "validation_labels",
             "fashion_mnist",
             "fashion_mnist_dir",
             "limit",
             "epochs",
             "batch_size",
             "optimizer",
             "learning_rate",
             "momentum",
             "nesterov",
             "weight_decay",
             "shuffle_seed",
             "lr_schedule",
             "resume",
             "dataset",
             "validation_dataset"},
            CsvFlags())},
      {"predict", "Predict classes (or values) for a file or stdin.",
       "Input: --csv FILE (with or without the label column), --images FILE\n"
       "[--labels FILE], --fashion_mnist (the test images), or CSV rows on\n"
       "stdin. Prints one line per row; with labels also the accuracy and a\n"
       "confusion matrix. Rows are sent --rows_per_request at a time.\n\n"
       "Example:\n  bnmlp predict --name fmnist --fashion_mnist --summary",
       With({"name", "csv", "images", "labels", "fashion_mnist",
             "fashion_mnist_dir", "limit", "probabilities", "summary",
             "class_names", "rows_per_request", "model_version"},
            CsvFlags())},
      {"params",
       "Show a model's parameters and batch-norm statistics.",
       "Text: per layer, each tensor's shape, L2 norm, min and max.\n"
       "--json: every value (GetParametersResponse).",
       {"name", "model_version"}},
      {"export",
       "Write a model to a file (ONNX, or bnmlp's native format).",
       "The format comes from --format or the file's extension (.onnx,\n"
       ".bnmlp). See docs/interchange.md.\n\n"
       "Example:\n  bnmlp export --name fmnist --output fmnist.onnx "
       "--fold_batch_norm",
       {"name", "output", "format", "fold_batch_norm", "model_version"}},
      {"import",
       "Create a model from a file (ONNX, or bnmlp's native format).",
       "Reads what torch.onnx.export writes for an nn.Sequential of Linear,\n"
       "BatchNorm1d and ReLU/Tanh/Sigmoid/Identity, and bnmlp's own exports;\n"
       "a final Softmax makes a classifier. See docs/interchange.md.\n\n"
       "Example:\n  bnmlp import --name from_torch --file model.onnx",
       {"name", "file", "format"}},
      {"upload", "Upload a dataset to the server, for training by name.",
       "Reads the same inputs as train (CSV, IDX images + labels, plain or\n"
       "gzip, --fashion_mnist's training set, or CSV on stdin) and streams\n"
       "them in chunks of at most 4 MiB, showing rows, MB/s and time left.\n"
       "--task regression reads CSV target columns instead of labels.\n"
       "See docs/datasets.md.\n\n"
       "Example:\n  bnmlp upload --name fmnist --fashion_mnist\n"
       "  bnmlp train --name m --dataset fmnist --epochs 10",
       With({"name", "csv", "images", "labels", "fashion_mnist",
             "fashion_mnist_dir", "limit", "task"},
            CsvFlags())},
      {"datasets", "List the server's datasets.", "", {}},
      {"delete-dataset",
       "Delete a dataset (a running training keeps it until it ends).",
       "",
       {"name"}},
      {"list", "List the server's models.", "", {}},
      {"delete",
       "Delete a model (cancelling its training, if running).",
       "",
       {"name"}},
      {"version",
       "Print bnmlp's version and git commit (also: bnmlp --version).",
       "Needs no server.",
       {}},
  };
}

// "bnmlp 0.2.0 (git 0123456789ab)", in bnmlp-server --version's format.
std::string VersionLine() {
  return absl::StrCat("bnmlp ", ProjectVersion(), " (git ", GitCommit(), ")");
}

ConnectionFlags ConnectionFlagsFromCommandLine() {
  ConnectionFlags flags;
  flags.token_file = absl::GetFlag(FLAGS_token_file);
  if (const char* token = std::getenv("BNMLP_TOKEN"); token != nullptr) {
    flags.token_environment = token;
  }
  flags.tls = absl::GetFlag(FLAGS_tls);
  flags.tls_ca_file = absl::GetFlag(FLAGS_tls_ca_file);
  flags.tls_cert_file = absl::GetFlag(FLAGS_tls_cert_file);
  flags.tls_key_file = absl::GetFlag(FLAGS_tls_key_file);
  return flags;
}

int Dispatch(const std::string& command, const CommandContext& context) {
  if (command == "health") return RunHealth(context);
  if (command == "create") return RunCreate(context);
  if (command == "train") return RunTrain(context);
  if (command == "predict") return RunPredict(context);
  if (command == "params") return RunParams(context);
  if (command == "list") return RunList(context);
  if (command == "upload") return RunUpload(context);
  if (command == "datasets") return RunDatasets(context);
  if (command == "delete-dataset") return RunDeleteDataset(context);
  if (command == "export") return RunExport(context);
  if (command == "import") return RunImport(context);
  if (command == "delete") return RunDelete(context);
  // Unreachable: every command of Commands() but `version` (handled in
  // Main) is dispatched above.
  return Fail(kExitUsage,
              absl::InternalError(absl::StrCat("command '", command,
                                               "' has no implementation")));
}

int Main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  const std::vector<CommandSpec> commands = Commands();
  const std::vector<std::string> common_flags = CommonFlags();
  absl::StatusOr<ParsedCommandLine> parsed =
      ParseCommandLine(args, commands, common_flags);
  if (!parsed.ok()) return FailUsage(parsed.status().message());
  if (parsed->help_requested) {
    const CommandSpec* command = FindCommand(commands, parsed->command);
    std::cout << (command != nullptr
                      ? CommandHelp("bnmlp", *command, common_flags)
                      : ProgramHelp("bnmlp", kIntro, commands, common_flags));
    return kExitOk;
  }
  if (parsed->version_requested || parsed->command == "version") {
    std::cout << VersionLine() << std::endl;
    return kExitOk;
  }
  client::ClientOptions options;
  options.call_timeout = absl::GetFlag(FLAGS_timeout).value;
  options.load_balancing_policy = absl::GetFlag(FLAGS_lb_policy);
  options.predict_rows_per_request = absl::GetFlag(FLAGS_rows_per_request);
  if (options.call_timeout <= absl::ZeroDuration() ||
      options.predict_rows_per_request <= 0) {
    return FailUsage("--timeout and --rows_per_request must be positive");
  }
  if (options.load_balancing_policy != "pick_first" &&
      options.load_balancing_policy != "round_robin") {
    return FailUsage("--lb_policy must be pick_first or round_robin");
  }
  absl::StatusOr<client::ChannelSecurity> security =
      ChannelSecurityFromFlags(ConnectionFlagsFromCommandLine());
  if (!security.ok()) return FailUsage(security.status().message());
  options.security = *std::move(security);
  SetConnectionForHints(&options.security);
  client::BnmlpClient client(absl::GetFlag(FLAGS_server), options);
  const CommandContext context{&client, &*parsed, absl::GetFlag(FLAGS_json)};
  return Dispatch(parsed->command, context);
}

}  // namespace
}  // namespace bnmlp::cli

int main(int argc, char** argv) { return bnmlp::cli::Main(argc, argv); }
