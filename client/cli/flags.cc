#include "client/cli/flags.h"

#include "absl/flags/flag.h"

ABSL_FLAG(std::string, server, "localhost:50051",
          "Address of the bnmlp server (host:port).");
ABSL_FLAG(bool, json, false,
          "Print machine-readable JSON (proto3 JSON names) instead of text.");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(30),
          "Deadline of each request (e.g. 30s, 2m); train has none.");
ABSL_FLAG(std::string, lb_policy, "pick_first",
          "How calls spread over the addresses of --server (e.g. "
          "ipv4:10.0.0.1:50051,10.0.0.2:50051): pick_first (one server, the "
          "next on failure) or round_robin (call by call; only for replicas "
          "that hold the same models).");

ABSL_FLAG(std::string, name, "", "Name of the model (required).");
ABSL_FLAG(std::string, layers, "",
          "Layer sizes inputs-hidden...-outputs, e.g. 784-256-128-10 or "
          "784,256,128,10 (required).");
ABSL_FLAG(std::string, task, "classification",
          "classification (softmax, class labels) or regression (identity, "
          "float targets).");
ABSL_FLAG(std::string, normalization, "pre_activation",
          "Where hidden layers apply batch norm: pre_activation, "
          "post_activation or none.");
ABSL_FLAG(std::string, activation, "relu",
          "Hidden activation: relu, tanh, sigmoid or identity.");
ABSL_FLAG(double, bn_momentum, 0.1,
          "Batch-norm running-statistics momentum in [0, 1] (server default "
          "0.1 when not given).");
ABSL_FLAG(double, bn_eps, 1e-5,
          "Batch-norm epsilon added to the variance (server default 1e-5 when "
          "not given).");
ABSL_FLAG(uint64_t, seed, 0, "Seed of the He weight initialization.");

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

ABSL_FLAG(int32_t, epochs, 10, "Passes over the training set.");
ABSL_FLAG(int32_t, batch_size, 128, "Samples per mini-batch (>= 2).");
ABSL_FLAG(std::string, optimizer, "sgd", "sgd or adam.");
ABSL_FLAG(float, learning_rate, 0.0f,
          "Learning rate (0: the server's default, 0.05 for SGD, 0.001 for "
          "Adam).");
ABSL_FLAG(float, momentum, 0.9f,
          "SGD momentum in [0, 1) (server default 0.9 when not given).");
ABSL_FLAG(bool, nesterov, false, "Use Nesterov momentum (SGD).");
ABSL_FLAG(float, weight_decay, 0.0f, "L2 penalty on the weights.");
ABSL_FLAG(uint64_t, shuffle_seed, 0, "Seed of the per-epoch shuffle.");
ABSL_FLAG(std::string, lr_schedule, "constant",
          "constant, or cosine (anneal the learning rate to 0 over the run).");

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
