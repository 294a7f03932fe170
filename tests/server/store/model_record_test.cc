#include "server/store/model_record.h"

#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bnmlp {
namespace {

using ::testing::HasSubstr;

ModelVersion TrainedVersion(OptimizerKind kind) {
  ModelConfig config;
  config.layer_sizes = {3, 5, 2};
  config.seed = 11;
  Model<float> model = *Model<float>::Create(config);
  model.mutable_layer(0).running_mean.setConstant(0.25f);
  OptimizerOptions options;
  options.kind = kind;
  Optimizer<float> optimizer(options, model);
  auto checkpoint = std::make_shared<TrainingCheckpoint<float>>();
  checkpoint->optimizer = optimizer.ExportState();
  checkpoint->optimizer.steps = 7;
  checkpoint->optimizer.first[0].setConstant(0.5f);
  checkpoint->epochs_completed = 3;
  TrainingProgress progress;
  progress.epoch = 3;
  progress.loss = 0.125;
  return ModelVersion{"m", 4,
                      std::make_shared<const Model<float>>(std::move(model)),
                      std::move(checkpoint), progress};
}

TEST(ModelRecordTest, RoundTripsEverything) {
  for (OptimizerKind kind : {OptimizerKind::kSgd, OptimizerKind::kAdam}) {
    const ModelVersion version = TrainedVersion(kind);
    const std::string file = EncodeModelVersionFile(version);
    EXPECT_EQ(file, EncodeModelVersionFile(version)) << "deterministic bytes";
    absl::StatusOr<ModelVersion> decoded = DecodeModelVersionFile(file, 1000);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(decoded->name, "m");
    EXPECT_EQ(decoded->version, 4);
    for (int l = 0; l < 2; ++l) {
      EXPECT_EQ(decoded->model->layer(l).weight,
                version.model->layer(l).weight);
      EXPECT_EQ(decoded->model->layer(l).running_mean,
                version.model->layer(l).running_mean);
      EXPECT_EQ(decoded->model->layer(l).bias, version.model->layer(l).bias);
    }
    ASSERT_NE(decoded->checkpoint, nullptr);
    EXPECT_EQ(decoded->checkpoint->optimizer.kind, kind);
    EXPECT_EQ(decoded->checkpoint->optimizer.steps, 7);
    EXPECT_EQ(decoded->checkpoint->epochs_completed, 3);
    EXPECT_EQ(decoded->checkpoint->optimizer.first,
              version.checkpoint->optimizer.first);
    EXPECT_EQ(decoded->checkpoint->optimizer.second,
              version.checkpoint->optimizer.second);
    ASSERT_TRUE(decoded->progress.has_value());
    EXPECT_EQ(decoded->progress->loss, 0.125);
  }
}

TEST(ModelRecordTest, EveryTruncationAndBitFlipIsRefused) {
  const std::string file =
      EncodeModelVersionFile(TrainedVersion(OptimizerKind::kSgd));
  for (size_t size = 0; size < file.size(); ++size) {
    EXPECT_EQ(
        DecodeModelVersionFile(file.substr(0, size), 1000).status().code(),
        absl::StatusCode::kInvalidArgument)
        << size;
  }
  for (size_t byte = 0; byte < file.size(); byte += 7) {
    std::string flipped = file;
    flipped[byte] ^= 0x01;
    EXPECT_FALSE(DecodeModelVersionFile(flipped, 1000).ok()) << byte;
  }
}

TEST(ModelRecordTest, PayloadsThatDoNotFitAreRefusedByName) {
  ModelVersion version = TrainedVersion(OptimizerKind::kSgd);
  EXPECT_EQ(DecodeModelVersionPayload(EncodeModelVersionPayload(version), 10)
                .status()
                .code(),
            absl::StatusCode::kResourceExhausted)
      << "over the parameter limit";
  auto bad = std::make_shared<Model<float>>(*version.model);
  bad->mutable_layer(1).weight(0, 0) = std::nanf("");
  version.model = bad;
  absl::Status refused =
      DecodeModelVersionPayload(EncodeModelVersionPayload(version), 1000)
          .status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.message(), HasSubstr("layer 2 weight"));
  EXPECT_EQ(DecodeModelVersionPayload("\xff\xff garbage", 1000).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ModelRecordTest, TrainingStateRoundTrips) {
  StoredTrainingState state{TrainingState::kCancelled, "why", std::nullopt};
  absl::StatusOr<StoredTrainingState> decoded =
      DecodeTrainingStatePayload(EncodeTrainingStatePayload(state));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->state, TrainingState::kCancelled);
  EXPECT_EQ(decoded->last_error, "why");
}

}  // namespace
}  // namespace bnmlp
