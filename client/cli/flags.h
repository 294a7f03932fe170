// The bnmlp CLI's flags. Which command takes which is listed in
// client/cli/main.cc; the values are read by the command implementations.
//
// Flags that set a request field default to "unset" (std::nullopt, or ""
// for enum names): an unset flag leaves the field out of the request and the
// server applies its documented default, which the flag's --help names from
// common/api_defaults.h. The CLI has no defaults of its own for them.
#ifndef BNMLP_CLIENT_CLI_FLAGS_H_
#define BNMLP_CLIENT_CLI_FLAGS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/flags/declare.h"
#include "client/cli/duration_flag.h"

// Every command.
ABSL_DECLARE_FLAG(std::string, server);
ABSL_DECLARE_FLAG(bool, json);
ABSL_DECLARE_FLAG(bnmlp::cli::SecondsOrDuration, timeout);
ABSL_DECLARE_FLAG(std::string, lb_policy);
ABSL_DECLARE_FLAG(std::string, token_file);
ABSL_DECLARE_FLAG(bool, tls);
ABSL_DECLARE_FLAG(std::string, tls_ca_file);
ABSL_DECLARE_FLAG(std::string, tls_cert_file);
ABSL_DECLARE_FLAG(std::string, tls_key_file);

// Model selection and architecture.
ABSL_DECLARE_FLAG(std::string, name);
ABSL_DECLARE_FLAG(std::string, layers);
ABSL_DECLARE_FLAG(std::string, task);
ABSL_DECLARE_FLAG(std::string, normalization);
ABSL_DECLARE_FLAG(std::string, activation);
ABSL_DECLARE_FLAG(std::optional<double>, bn_momentum);
ABSL_DECLARE_FLAG(std::optional<double>, bn_eps);
ABSL_DECLARE_FLAG(std::optional<uint64_t>, seed);

// Data sources.
ABSL_DECLARE_FLAG(std::string, train_csv);
ABSL_DECLARE_FLAG(std::string, train_images);
ABSL_DECLARE_FLAG(std::string, train_labels);
ABSL_DECLARE_FLAG(std::string, validation_csv);
ABSL_DECLARE_FLAG(std::string, validation_images);
ABSL_DECLARE_FLAG(std::string, validation_labels);
ABSL_DECLARE_FLAG(std::string, csv);
ABSL_DECLARE_FLAG(std::string, images);
ABSL_DECLARE_FLAG(std::string, labels);
ABSL_DECLARE_FLAG(bool, fashion_mnist);
ABSL_DECLARE_FLAG(std::string, fashion_mnist_dir);
ABSL_DECLARE_FLAG(int64_t, limit);
ABSL_DECLARE_FLAG(int32_t, csv_label_column);
ABSL_DECLARE_FLAG(std::string, csv_target_columns);
ABSL_DECLARE_FLAG(std::string, csv_header);
ABSL_DECLARE_FLAG(std::string, csv_delimiter);
ABSL_DECLARE_FLAG(float, csv_feature_scale);

// Training.
ABSL_DECLARE_FLAG(std::optional<int32_t>, epochs);
ABSL_DECLARE_FLAG(std::optional<int32_t>, batch_size);
ABSL_DECLARE_FLAG(std::string, optimizer);
ABSL_DECLARE_FLAG(std::optional<float>, learning_rate);
ABSL_DECLARE_FLAG(std::optional<float>, momentum);
ABSL_DECLARE_FLAG(bool, nesterov);
ABSL_DECLARE_FLAG(std::optional<float>, weight_decay);
ABSL_DECLARE_FLAG(std::optional<uint64_t>, shuffle_seed);
ABSL_DECLARE_FLAG(bool, resume);
ABSL_DECLARE_FLAG(std::string, lr_schedule);

// Prediction output.
ABSL_DECLARE_FLAG(bool, probabilities);
ABSL_DECLARE_FLAG(bool, summary);
ABSL_DECLARE_FLAG(std::string, class_names);
ABSL_DECLARE_FLAG(int64_t, rows_per_request);

// Health.
ABSL_DECLARE_FLAG(std::string, service);

#endif  // BNMLP_CLIENT_CLI_FLAGS_H_
