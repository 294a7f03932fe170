#include "server/proto_fields.h"

#include "bnmlp/v1/bnmlp.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/store/model_version.pb.h"

namespace bnmlp {
namespace {

using ::testing::ElementsAre;

ModelConfig SomeConfig() {
  ModelConfig config;
  config.layer_sizes = {5, 7, 3};
  config.task = Task::kRegression;
  config.normalization = Normalization::kPostActivation;
  config.activation = Activation::kTanh;
  config.batch_norm_momentum = 0.25;
  config.batch_norm_epsilon = 1e-3;
  config.seed = 42;
  return config;
}

// The API's message and the store's record get the same values.
template <typename Message>
void ExpectConfigFields(const Message& m) {
  EXPECT_THAT(m.layer_sizes(), ElementsAre(5, 7, 3));
  EXPECT_EQ(m.task(), v1::TASK_REGRESSION);
  EXPECT_EQ(m.normalization(), v1::NORMALIZATION_POST_ACTIVATION);
  EXPECT_EQ(m.activation(), v1::ACTIVATION_TANH);
  EXPECT_EQ(m.batch_norm_momentum(), 0.25);
  EXPECT_EQ(m.batch_norm_epsilon(), 1e-3);
  EXPECT_EQ(m.seed(), 42u);
}

TEST(ProtoFieldsTest, ConfigReachesTheApiAndTheStoreAlike) {
  v1::ModelInfo info;
  ConfigToProto(SomeConfig(), &info);
  ExpectConfigFields(info);
  store::v1::ModelConfigRecord record;
  ConfigToProto(SomeConfig(), &record);
  ExpectConfigFields(record);
}

template <typename Message>
void ExpectProgressFields(const Message& m) {
  EXPECT_EQ(m.epoch(), 2);
  EXPECT_EQ(m.epochs(), 9);
  EXPECT_EQ(m.batch(), 31);
  EXPECT_EQ(m.batches_per_epoch(), 469);
  EXPECT_EQ(m.loss(), 0.5);
  EXPECT_EQ(m.accuracy(), 0.75);
  EXPECT_TRUE(m.has_validation());
  EXPECT_EQ(m.validation_loss(), 0.625);
  EXPECT_EQ(m.validation_accuracy(), 0.875);
  EXPECT_EQ(m.samples_per_second(), 12345.5);
  EXPECT_EQ(m.elapsed_seconds(), 3.25);
}

TEST(ProtoFieldsTest, ProgressReachesTheApiAndTheStoreAlike) {
  TrainingProgress p;
  p.epoch = 2;
  p.epochs = 9;
  p.batch = 31;
  p.batches_per_epoch = 469;
  p.loss = 0.5;
  p.accuracy = 0.75;
  p.has_validation = true;
  p.validation_loss = 0.625;
  p.validation_accuracy = 0.875;
  p.samples_per_second = 12345.5;
  p.elapsed_seconds = 3.25;
  v1::TrainProgress api;
  ProgressFieldsToProto(p, &api);
  ExpectProgressFields(api);
  store::v1::ProgressRecord record;
  ProgressFieldsToProto(p, &record);
  ExpectProgressFields(record);
}

}  // namespace
}  // namespace bnmlp
