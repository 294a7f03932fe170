#include "client/bnmlp_client.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/rpc_error.h"
#include "common/status_macros.h"

namespace bnmlp::client {
namespace {

// Checks that `examples` is a non-empty [N, F] batch with N labels or
// [N, num_targets] targets, naming `what` ("training set") in errors.
absl::Status ValidateExamples(const ExamplesView& examples,
                              absl::string_view what) {
  if (examples.num_features <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": num_features must be > 0, got ", examples.num_features));
  }
  const int64_t num_values = static_cast<int64_t>(examples.features.size());
  if (num_values == 0 || num_values % examples.num_features != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": ", num_values,
                     " feature values are not a non-empty multiple of "
                     "num_features = ",
                     examples.num_features));
  }
  const int64_t n = examples.num_samples();
  const auto num_labels = static_cast<int64_t>(examples.labels.size());
  const auto num_targets = static_cast<int64_t>(examples.targets.size());
  if (num_labels == 0 && num_targets == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": has neither labels nor targets"));
  }
  if (num_labels != 0 && num_labels != n) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": ", n, " samples but ", num_labels, " labels"));
  }
  if (num_targets != 0 &&
      (examples.num_targets <= 0 || num_targets != n * examples.num_targets)) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": ", n, " samples x num_targets = ", examples.num_targets,
        " needs ", n * examples.num_targets, " target values, got ",
        num_targets));
  }
  return absl::OkStatus();
}

void FillExamples(const ExamplesView& examples, v1::Tensor* x,
                  google::protobuf::RepeatedField<int32_t>* labels,
                  v1::Tensor* targets) {
  const int64_t n = examples.num_samples();
  const int64_t x_shape[] = {n, examples.num_features};
  *x = ToTensorProto(examples.features, x_shape);
  labels->Add(examples.labels.begin(), examples.labels.end());
  if (!examples.targets.empty()) {
    const int64_t target_shape[] = {n, examples.num_targets};
    *targets = ToTensorProto(examples.targets, target_shape);
  }
}

// Zero is "unset" on the wire for these fields: an explicit zero would
// silently become the server's default, so it is refused instead.
absl::Status ValidateTrainOptions(const TrainOptions& options) {
  const struct {
    const char* field;
    bool zero;
    const char* expected;
  } checks[] = {
      {"epochs", options.epochs == 0, "at least 1"},
      {"batch_size", options.batch_size == 0, "at least 2"},
      {"learning_rate", options.learning_rate == 0.0f, "> 0"},
  };
  for (const auto& check : checks) {
    if (check.zero) {
      return absl::InvalidArgumentError(
          absl::StrCat("Train: ", check.field, " is 0; expected ",
                       check.expected, ", or unset for the server's default"));
    }
  }
  return absl::OkStatus();
}

v1::TrainRequest MakeTrainRequest(const std::string& name,
                                  const ExamplesView& train,
                                  const ExamplesView* validation,
                                  const TrainOptions& options) {
  v1::TrainRequest request;
  request.set_name(name);
  FillExamples(train, request.mutable_x(), request.mutable_labels(),
               request.mutable_targets());
  if (validation != nullptr) {
    FillExamples(*validation, request.mutable_validation_x(),
                 request.mutable_validation_labels(),
                 request.mutable_validation_targets());
  }
  // Unset options stay at proto3's zero / *_UNSPECIFIED / absent, which the
  // server reads as its documented defaults.
  if (options.epochs.has_value()) request.set_epochs(*options.epochs);
  if (options.batch_size.has_value()) {
    request.set_batch_size(*options.batch_size);
  }
  request.set_optimizer(options.optimizer);
  if (options.learning_rate.has_value()) {
    request.set_learning_rate(*options.learning_rate);
  }
  request.set_learning_rate_schedule(options.learning_rate_schedule);
  if (options.momentum.has_value()) request.set_momentum(*options.momentum);
  if (options.nesterov.has_value()) request.set_nesterov(*options.nesterov);
  if (options.weight_decay.has_value()) {
    request.set_weight_decay(*options.weight_decay);
  }
  request.set_resume(options.resume);
  if (options.shuffle_seed.has_value()) {
    request.set_shuffle_seed(*options.shuffle_seed);
  }
  return request;
}

}  // namespace

BnmlpClient::BnmlpClient(std::string address, ClientOptions options)
    : address_(std::move(address)), options_(options) {
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(options_.max_message_bytes);
  args.SetMaxReceiveMessageSize(options_.max_message_bytes);
  if (!options_.load_balancing_policy.empty()) {
    args.SetLoadBalancingPolicyName(options_.load_balancing_policy);
  }
  std::shared_ptr<grpc::Channel> channel =
      CreateClientChannel(address_, options_.security, args);
  stub_ = v1::BnMlpService::NewStub(channel);
  health_stub_ = grpc::health::v1::Health::NewStub(channel);
}

std::unique_ptr<grpc::ClientContext> BnmlpClient::UnaryContext() const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(
      absl::ToChronoTime(absl::Now() + options_.call_timeout));
  return context;
}

absl::Status BnmlpClient::Check(const grpc::Status& status,
                                absl::string_view rpc) const {
  return FromGrpcStatus(status, rpc, address_);
}

absl::StatusOr<grpc::health::v1::HealthCheckResponse::ServingStatus>
BnmlpClient::Health(const std::string& service) {
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::health::v1::HealthCheckResponse response;
  auto context = UnaryContext();
  BNMLP_RETURN_IF_ERROR(
      Check(health_stub_->Check(context.get(), request, &response), "Health"));
  return response.status();
}

absl::StatusOr<v1::ModelInfo> BnmlpClient::CreateModel(
    const std::string& name, absl::Span<const int64_t> layer_sizes,
    const ModelOptions& options) {
  v1::CreateModelRequest request;
  request.set_name(name);
  request.mutable_layer_sizes()->Add(layer_sizes.begin(), layer_sizes.end());
  // Unset options stay unset: the server applies its documented defaults.
  request.set_task(options.task);
  request.set_normalization(options.normalization);
  request.set_activation(options.activation);
  if (options.batch_norm_momentum.has_value()) {
    request.set_batch_norm_momentum(*options.batch_norm_momentum);
  }
  if (options.batch_norm_epsilon.has_value()) {
    request.set_batch_norm_epsilon(*options.batch_norm_epsilon);
  }
  if (options.seed.has_value()) request.set_seed(*options.seed);
  v1::ModelInfo info;
  auto context = UnaryContext();
  BNMLP_RETURN_IF_ERROR(
      Check(stub_->CreateModel(context.get(), request, &info), "CreateModel"));
  return info;
}

absl::StatusOr<v1::TrainProgress> BnmlpClient::Train(
    const std::string& name, const ExamplesView& train,
    const ExamplesView* validation, const TrainOptions& options,
    const TrainEventCallback& on_event, CallCanceller* canceller) {
  BNMLP_RETURN_IF_ERROR(ValidateExamples(train, "training set"));
  if (validation != nullptr) {
    BNMLP_RETURN_IF_ERROR(ValidateExamples(*validation, "validation set"));
  }
  BNMLP_RETURN_IF_ERROR(ValidateTrainOptions(options));
  return StreamTrain(MakeTrainRequest(name, train, validation, options),
                     on_event, canceller);
}

absl::StatusOr<v1::TrainProgress> BnmlpClient::TrainOnDatasets(
    const std::string& name, const std::string& dataset,
    const std::string& validation_dataset, const TrainOptions& options,
    const TrainEventCallback& on_event, CallCanceller* canceller) {
  BNMLP_RETURN_IF_ERROR(ValidateTrainOptions(options));
  v1::TrainRequest request =
      MakeTrainRequest(name, ExamplesView{}, nullptr, options);
  request.clear_x();
  request.clear_labels();
  request.clear_targets();
  request.set_dataset(dataset);
  request.set_validation_dataset(validation_dataset);
  return StreamTrain(request, on_event, canceller);
}

absl::StatusOr<v1::TrainProgress> BnmlpClient::StreamTrain(
    const v1::TrainRequest& request, const TrainEventCallback& on_event,
    CallCanceller* canceller) {
  const std::string& name = request.name();
  grpc::ClientContext context;  // No deadline: training takes what it takes.
  CallCanceller::Binding binding(canceller, &context);
  std::unique_ptr<grpc::ClientReader<v1::TrainResponse>> reader =
      stub_->Train(&context, request);
  v1::TrainResponse event;
  std::optional<v1::TrainProgress> summary;
  bool cancelled_by_callback = false;
  while (reader->Read(&event)) {
    if (event.has_done()) summary = event.done();
    if (cancelled_by_callback || !on_event) continue;
    if (!on_event(event)) {
      cancelled_by_callback = true;
      context.TryCancel();  // Keep reading: Finish wants a drained stream.
    }
  }
  const grpc::Status status = reader->Finish();
  if (status.ok() && summary.has_value()) return *std::move(summary);
  const bool cancelled =
      cancelled_by_callback || (canceller != nullptr && canceller->cancelled());
  if (cancelled && status.error_code() == grpc::StatusCode::CANCELLED) {
    return absl::CancelledError(absl::StrCat("Train: training of model '", name,
                                             "' was cancelled by the client"));
  }
  BNMLP_RETURN_IF_ERROR(Check(status, "Train"));
  return absl::InternalError(
      "Train: the server ended the stream without a final summary "
      "(a TrainResponse with `done`)");
}

absl::StatusOr<Prediction> BnmlpClient::Predict(
    const std::string& name, absl::Span<const float> features,
    int64_t num_features, const PredictProgressCallback& on_progress,
    int64_t version) {
  const auto num_values = static_cast<int64_t>(features.size());
  if (num_features <= 0 || num_values == 0 || num_values % num_features != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Predict: ", num_values,
        " feature values are not a non-empty multiple of num_features = ",
        num_features));
  }
  const int64_t num_rows = num_values / num_features;
  const int64_t chunk_rows =
      std::max<int64_t>(1, options_.predict_rows_per_request);
  Prediction prediction;
  prediction.num_rows = num_rows;
  for (int64_t first = 0; first < num_rows; first += chunk_rows) {
    const int64_t rows = std::min(chunk_rows, num_rows - first);
    v1::PredictRequest request;
    request.set_name(name);
    request.set_version(version);
    const int64_t shape[] = {rows, num_features};
    *request.mutable_x() = ToTensorProto(
        features.subspan(first * num_features, rows * num_features), shape);
    v1::PredictResponse response;
    auto context = UnaryContext();
    BNMLP_RETURN_IF_ERROR(
        Check(stub_->Predict(context.get(), request, &response), "Predict"));
    BNMLP_ASSIGN_OR_RETURN(const TensorData outputs,
                           FromTensorProto(response.outputs(), "outputs"));
    if (outputs.shape.size() != 2 || outputs.shape[0] != rows) {
      return absl::InternalError(
          absl::StrCat("Predict: the server answered ", rows,
                       " rows with outputs of shape [",
                       absl::StrJoin(outputs.shape, ", "), "]"));
    }
    if (first > 0 && response.version() != prediction.version) {
      prediction.mixed_versions = true;
    }
    prediction.version = response.version();
    prediction.num_outputs = outputs.shape[1];
    prediction.outputs.insert(prediction.outputs.end(), outputs.values.begin(),
                              outputs.values.end());
    prediction.classes.insert(prediction.classes.end(),
                              response.classes().begin(),
                              response.classes().end());
    if (on_progress) on_progress(first + rows, num_rows);
  }
  return prediction;
}

absl::StatusOr<ModelParameters> BnmlpClient::GetParameters(
    const std::string& name, int64_t version) {
  v1::GetParametersRequest request;
  request.set_name(name);
  request.set_version(version);
  v1::GetParametersResponse response;
  auto context = UnaryContext();
  BNMLP_RETURN_IF_ERROR(
      Check(stub_->GetParameters(context.get(), request, &response),
            "GetParameters"));
  return FromParametersProto(response);
}

absl::StatusOr<std::vector<v1::ModelInfo>> BnmlpClient::ListModels() {
  v1::ListModelsResponse response;
  auto context = UnaryContext();
  BNMLP_RETURN_IF_ERROR(Check(
      stub_->ListModels(context.get(), v1::ListModelsRequest(), &response),
      "ListModels"));
  return std::vector<v1::ModelInfo>(response.models().begin(),
                                    response.models().end());
}

absl::StatusOr<v1::ModelInfo> BnmlpClient::GetModel(const std::string& name) {
  v1::GetModelRequest request;
  request.set_name(name);
  v1::ModelInfo info;
  auto context = UnaryContext();
  BNMLP_RETURN_IF_ERROR(
      Check(stub_->GetModel(context.get(), request, &info), "GetModel"));
  return info;
}

absl::StatusOr<bool> BnmlpClient::DeleteModel(const std::string& name) {
  v1::DeleteModelRequest request;
  request.set_name(name);
  v1::DeleteModelResponse response;
  auto context = UnaryContext();
  BNMLP_RETURN_IF_ERROR(Check(
      stub_->DeleteModel(context.get(), request, &response), "DeleteModel"));
  return response.cancelled_training();
}

}  // namespace bnmlp::client
