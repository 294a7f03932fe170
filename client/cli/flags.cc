#include "client/cli/flags.h"

#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "common/api_defaults.h"

namespace {

namespace defaults = ::bnmlp::api_defaults;

// A default as the .proto comments and README.md write it: 0.05, 1e-5.
std::string Number(double value) {
  return absl::StrReplaceAll(absl::StrFormat("%g", value),
                             {{"e-0", "e-"}, {"e+0", "e+"}});
}

// The end of the help of a flag that is unset unless given.
std::string ServerDefault(const std::string& value) {
  return absl::StrCat(" Unset: the server's default, ", value, ".");
}

}  // namespace

ABSL_FLAG(std::string, server, "localhost:50051",
          "Address of the bnmlp server (host:port).");
ABSL_FLAG(bool, json, false,
          "Print machine-readable JSON (proto3 JSON names) instead of text.");
ABSL_FLAG(bnmlp::cli::SecondsOrDuration, timeout,
          bnmlp::cli::SecondsOrDuration{absl::Seconds(30)},
          "Deadline of each request: seconds (5, 0.5) or a duration (500ms, "
          "2m); train has none.");
ABSL_FLAG(std::string, lb_policy, "pick_first",
          "How calls spread over the addresses of --server (e.g. "
          "ipv4:10.0.0.1:50051,10.0.0.2:50051): pick_first (one server, the "
          "next on failure) or round_robin (call by call; only for replicas "
          "that hold the same models).");

ABSL_FLAG(std::string, token_file, "",
          "File holding the bearer token to send (the token alone, or a "
          "server's 'TOKEN ROLE' tokens file: its first token). Unset: "
          "$BNMLP_TOKEN, if set.");
ABSL_FLAG(bool, tls, false,
          "Connect with TLS, trusting the system's CAs (implied by "
          "--tls_ca_file and --tls_cert_file).");
ABSL_FLAG(std::string, tls_ca_file, "",
          "PEM CA certificate(s) that signed the server's certificate; "
          "turns TLS on.");
ABSL_FLAG(std::string, tls_cert_file, "",
          "PEM client certificate, for servers that require one (mutual "
          "TLS); needs --tls_key_file.");
ABSL_FLAG(std::string, tls_key_file, "", "PEM private key of --tls_cert_file.");

ABSL_FLAG(std::string, name, "", "Name of the model (required).");
ABSL_FLAG(std::string, layers, "",
          "Layer sizes inputs-hidden...-outputs, e.g. 784-256-128-10 or "
          "784,256,128,10 (required).");
// The enums' defaults are the .proto's (each enum's *_UNSPECIFIED comment).
ABSL_FLAG(std::string, task, "",
          absl::StrCat("classification (softmax, class labels) or regression "
                       "(identity, float targets).",
                       ServerDefault("classification")));
ABSL_FLAG(std::string, normalization, "",
          absl::StrCat("Where hidden layers apply batch norm: pre_activation, "
                       "post_activation or none.",
                       ServerDefault("pre_activation")));
ABSL_FLAG(std::string, activation, "",
          absl::StrCat("Hidden activation: relu, tanh, sigmoid or identity.",
                       ServerDefault("relu")));
ABSL_FLAG(std::optional<double>, bn_momentum, std::nullopt,
          absl::StrCat("Batch-norm running-statistics momentum in [0, 1].",
                       ServerDefault(Number(defaults::kBatchNormMomentum))));
ABSL_FLAG(std::optional<double>, bn_eps, std::nullopt,
          absl::StrCat("Batch-norm epsilon added to the variance (> 0).",
                       ServerDefault(Number(defaults::kBatchNormEpsilon))));
ABSL_FLAG(std::optional<uint64_t>, seed, std::nullopt,
          absl::StrCat("Seed of the He weight initialization.",
                       ServerDefault(absl::StrCat(defaults::kSeed))));

ABSL_FLAG(std::string, train_csv, "",
          "Training set as CSV (plain or .gz; '-' reads stdin).");
ABSL_FLAG(std::string, train_images, "",
          "Training images as an IDX file (plain or .gz).");
ABSL_FLAG(std::string, train_labels, "",
          "Training labels as an IDX file (with --train_images).");
ABSL_FLAG(std::string, validation_csv, "",
          "Validation set as CSV, evaluated after every epoch.");
ABSL_FLAG(std::string, validation_images, "",
          "Validation images as an IDX file.");
ABSL_FLAG(std::string, validation_labels, "",
          "Validation labels as an IDX file (with --validation_images).");
ABSL_FLAG(std::string, csv, "",
          "Input as CSV (plain or .gz; '-' or no input flag reads stdin), "
          "with or without the label column.");
ABSL_FLAG(std::string, images, "", "Input images as an IDX file.");
ABSL_FLAG(std::string, labels, "",
          "True labels as an IDX file (with --images): adds accuracy and a "
          "confusion matrix.");
ABSL_FLAG(bool, fashion_mnist, false,
          "Use Debian's Fashion-MNIST (dataset-fashion-mnist): train on the "
          "60,000 training images validating on the 10,000 test images; "
          "predict the test images.");
ABSL_FLAG(std::string, fashion_mnist_dir, "/usr/share/datasets/fashion-mnist",
          "Directory of the Fashion-MNIST .gz files.");
ABSL_FLAG(int64_t, limit, 0,
          "Use only the first N samples of each input (0: all).");
ABSL_FLAG(int32_t, csv_label_column, -1,
          "CSV column of the class label, from 0 (negative counts from the "
          "end: -1 is the last).");
ABSL_FLAG(std::string, csv_target_columns, "",
          "Regression: comma-separated CSV columns of the targets (default: "
          "the last column).");
ABSL_FLAG(std::string, csv_header, "auto",
          "auto (the first line is a header if it has a non-number), present "
          "or absent.");
ABSL_FLAG(std::string, csv_delimiter, ",",
          "CSV field delimiter, one character ('\\t' or tab for TSV).");
ABSL_FLAG(float, csv_feature_scale, 1.0f,
          "Multiply every CSV feature by this (e.g. 0.00392157 for 0..255 "
          "pixels).");

ABSL_FLAG(std::optional<int32_t>, epochs, std::nullopt,
          absl::StrCat("Passes over the training set (1 to 100000).",
                       ServerDefault(absl::StrCat(defaults::kEpochs))));
ABSL_FLAG(std::optional<int32_t>, batch_size, std::nullopt,
          absl::StrCat("Samples per mini-batch (>= 2).",
                       ServerDefault(absl::StrCat(defaults::kBatchSize))));
ABSL_FLAG(std::string, optimizer, "",
          absl::StrCat("sgd or adam.", ServerDefault("sgd")));
ABSL_FLAG(std::optional<float>, learning_rate, std::nullopt,
          absl::StrCat("Learning rate (> 0).",
                       ServerDefault(absl::StrCat(
                           Number(defaults::kSgdLearningRate), " for sgd, ",
                           Number(defaults::kAdamLearningRate), " for adam"))));
ABSL_FLAG(std::string, lr_schedule, "",
          absl::StrCat("constant, or cosine (anneal the learning rate to 0 "
                       "over the run).",
                       ServerDefault("constant")));
ABSL_FLAG(std::optional<float>, momentum, std::nullopt,
          absl::StrCat("SGD momentum in [0, 1).",
                       ServerDefault(Number(defaults::kSgdMomentum))));
ABSL_FLAG(bool, nesterov, false,
          "Use Nesterov momentum (SGD). Unset: the server's default, off.");
ABSL_FLAG(std::optional<float>, weight_decay, std::nullopt,
          absl::StrCat("L2 penalty on the weights (>= 0).",
                       ServerDefault(Number(defaults::kWeightDecay))));
ABSL_FLAG(std::optional<uint64_t>, shuffle_seed, std::nullopt,
          absl::StrCat("Seed of the per-epoch shuffle.",
                       ServerDefault(absl::StrCat(defaults::kShuffleSeed))));
ABSL_FLAG(bool, resume, false,
          "Continue from the model's latest version with its saved optimizer "
          "state and schedule position (same data and seeds: N epochs then "
          "N more with --resume equal one 2N-epoch run).");

ABSL_FLAG(bool, probabilities, false,
          "Also print each row's class probabilities.");
ABSL_FLAG(bool, summary, false,
          "Print only the summary (accuracy, confusion matrix), not every "
          "row.");
ABSL_FLAG(std::string, class_names, "",
          "Comma-separated class names for labels 0, 1, ... (--fashion_mnist "
          "sets Fashion-MNIST's).");
ABSL_FLAG(int64_t, rows_per_request, 4096, "Rows sent per Predict request.");

ABSL_FLAG(std::string, service, "",
          "grpc.health.v1 service name to check (empty: the whole server).");
