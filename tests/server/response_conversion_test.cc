#include "server/response_conversion.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bnmlp {
namespace {

using ::testing::ElementsAre;

TEST(ParametersToProtoTest, LaysOutTensorsLikeTorch) {
  ModelConfig config;
  config.layer_sizes = {3, 4, 2};
  absl::StatusOr<Model<float>> model = Model<float>::Create(config);
  ASSERT_TRUE(model.ok());
  v1::GetParametersResponse response;
  ParametersToProto(*model, &response);
  EXPECT_THAT(response.layer_sizes(), ElementsAre(3, 4, 2));
  ASSERT_EQ(response.layers_size(), 2);
  const v1::LayerParameters& hidden = response.layers(0);
  EXPECT_THAT(hidden.weight().shape(), ElementsAre(4, 3));
  // weight[1][2] (row-major [out, in]) is the engine's weight(1, 2).
  EXPECT_EQ(hidden.weight().values(1 * 3 + 2), model->layer(0).weight(1, 2));
  EXPECT_EQ(hidden.bias().values_size(), 0);  // pre-activation: no bias
  EXPECT_EQ(hidden.bias().shape_size(), 0);
  EXPECT_THAT(hidden.gamma().shape(), ElementsAre(4));
  EXPECT_THAT(hidden.running_var().values(), ElementsAre(1, 1, 1, 1));
  const v1::LayerParameters& output = response.layers(1);
  EXPECT_THAT(output.weight().shape(), ElementsAre(2, 4));
  EXPECT_THAT(output.bias().shape(), ElementsAre(2));
  EXPECT_EQ(output.gamma().values_size(), 0);  // no BatchNorm on the output
}

ProgressRecord SomeProgress(bool epoch_end) {
  ProgressRecord record;
  record.progress.epoch = 3;
  record.progress.epochs = 10;
  record.progress.batch = 2;
  record.progress.batches_per_epoch = 5;
  record.progress.loss = 0.5;
  record.progress.has_validation = true;
  record.progress.validation_accuracy = 0.75;
  record.progress.epoch_end = epoch_end;
  record.version = 4;
  return record;
}

TEST(ModelStatusToProtoTest, CarriesStateProgressAndError) {
  ModelStatus status;
  status.name = "m";
  status.config.layer_sizes = {2, 3, 2};
  status.config.activation = Activation::kSigmoid;
  status.parameter_count = 23;
  status.version = 4;
  status.training_state = TrainingState::kCancelled;
  status.last_error = "cancelled by the client";
  status.last_progress = SomeProgress(/*epoch_end=*/false);
  v1::ModelInfo info;
  ModelStatusToProto(status, &info);
  EXPECT_EQ(info.name(), "m");
  EXPECT_THAT(info.layer_sizes(), ElementsAre(2, 3, 2));
  EXPECT_EQ(info.activation(), v1::ACTIVATION_SIGMOID);
  EXPECT_EQ(info.normalization(), v1::NORMALIZATION_PRE_ACTIVATION);
  EXPECT_EQ(info.task(), v1::TASK_CLASSIFICATION);
  EXPECT_EQ(info.batch_norm_momentum(), 0.1);
  EXPECT_EQ(info.parameter_count(), 23);
  EXPECT_EQ(info.version(), 4);
  EXPECT_EQ(info.training_state(), v1::TRAINING_STATE_CANCELLED);
  EXPECT_EQ(info.last_error(), "cancelled by the client");
  EXPECT_EQ(info.last_progress().epoch(), 3);
  EXPECT_EQ(info.last_progress().epochs(), 10);
  EXPECT_EQ(info.last_progress().batches_per_epoch(), 5);
  EXPECT_EQ(info.last_progress().loss(), 0.5);
  EXPECT_TRUE(info.last_progress().has_validation());
  EXPECT_EQ(info.last_progress().validation_accuracy(), 0.75);
  EXPECT_EQ(info.last_progress().version(), 4);
}

TEST(TrainEventsTest, ExactlyOneEventKindPerMessage) {
  const v1::TrainResponse mid = ProgressEvent(SomeProgress(false));
  EXPECT_EQ(mid.event_case(), v1::TrainResponse::kProgress);
  EXPECT_EQ(mid.progress().batch(), 2);
  const v1::TrainResponse end = ProgressEvent(SomeProgress(true));
  EXPECT_EQ(end.event_case(), v1::TrainResponse::kEpochEnd);
  EXPECT_EQ(end.epoch_end().version(), 4);
  // The summary repeats the last epoch's figures but is not an epoch end.
  const v1::TrainResponse done = DoneEvent(SomeProgress(true));
  EXPECT_EQ(done.event_case(), v1::TrainResponse::kDone);
  EXPECT_FALSE(done.has_epoch_end());
  EXPECT_EQ(done.done().epoch(), 3);
}

}  // namespace
}  // namespace bnmlp
