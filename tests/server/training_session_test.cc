#include "server/training_session.h"

#include <memory>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bnmlp {
namespace {

using ::testing::HasSubstr;

// 64 samples of two separable blobs, 2 features.
struct Blobs {
  Blobs() : x(2, 64), labels(64) {
    for (int j = 0; j < 64; ++j) {
      labels[j] = j % 2;
      const float center = labels[j] == 0 ? -1.5f : 1.5f;
      x(0, j) = center + 0.1f * static_cast<float>(j % 7);
      x(1, j) = center - 0.1f * static_cast<float>(j % 5);
    }
  }
  Dataset<float> view() const {
    return {ConstMatrixMap<float>(x.data(), 2, 64), labels, {nullptr, 0, 0}};
  }
  Matrix<float> x;
  std::vector<int32_t> labels;
};

class TrainingSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ModelConfig config;
    config.layer_sizes = {2, 8, 2};
    ASSERT_TRUE(registry_.Create("m", config).ok());
    options_.epochs = 3;
    options_.batch_size = 16;
    options_.progress_interval_seconds = 0;  // every batch
  }

  // Runs a session whose stream records every event; `on_event` (may be
  // empty) runs after each one and returns what `send` returns.
  absl::Status Run(
      std::function<bool(const v1::TrainResponse&)> on_event = {},
      std::function<bool()> client_cancelled = [] { return false; }) {
    absl::StatusOr<std::unique_ptr<TrainingRun>> run =
        registry_.StartTraining("m", "test");
    EXPECT_TRUE(run.ok()) << run.status();
    if (!run.ok()) return run.status();
    const TrainingStream stream{[&](const v1::TrainResponse& event) {
                                  events_.push_back(event);
                                  return on_event ? on_event(event) : true;
                                },
                                std::move(client_cancelled)};
    const Dataset<float> train = data_.view();
    absl::StatusOr<TrainingInputs<float>> inputs = ValidateTrainInputs(
        (*run)->start().model->config(), train, nullptr, options_);
    EXPECT_TRUE(inputs.ok()) << inputs.status();
    if (!inputs.ok()) return inputs.status();
    return RunTrainingSession(**run, *inputs, stream);
  }

  int Count(v1::TrainResponse::EventCase kind) const {
    int count = 0;
    for (const v1::TrainResponse& event : events_) {
      count += event.event_case() == kind;
    }
    return count;
  }

  ModelRegistry registry_{RegistryLimits{}};
  Blobs data_;
  TrainOptions options_;
  std::vector<v1::TrainResponse> events_;
};

TEST_F(TrainingSessionTest, OneEpochEndPerEpochThenTheSummary) {
  ASSERT_TRUE(Run().ok());
  EXPECT_EQ(Count(v1::TrainResponse::kEpochEnd), 3);
  EXPECT_EQ(Count(v1::TrainResponse::kDone), 1);
  EXPECT_GT(Count(v1::TrainResponse::kProgress), 0);
  ASSERT_EQ(events_.back().event_case(), v1::TrainResponse::kDone);
  const v1::TrainProgress& done = events_.back().done();
  EXPECT_EQ(done.version(), 4);  // created as 1, one version per epoch
  EXPECT_EQ(done.epoch(), 3);
  int version = 1;
  for (const v1::TrainResponse& event : events_) {
    if (event.has_epoch_end()) {
      EXPECT_EQ(event.epoch_end().version(), ++version);
    }
  }
  absl::StatusOr<ModelStatus> status = registry_.GetStatus("m");
  EXPECT_EQ(status->training_state, TrainingState::kTrained);
  EXPECT_EQ(status->version, 4);
}

TEST_F(TrainingSessionTest, ClientCancellationKeepsTheLastVersion) {
  int epoch_ends = 0;
  const absl::Status status = Run(
      [&](const v1::TrainResponse& event) {
        epoch_ends += event.has_epoch_end();
        return true;
      },
      [&] { return epoch_ends >= 1; });
  EXPECT_EQ(status.code(), absl::StatusCode::kCancelled) << status;
  EXPECT_THAT(status.message(), HasSubstr("cancelled by the client"));
  EXPECT_THAT(status.message(), HasSubstr("the model keeps version 2"));
  EXPECT_EQ(Count(v1::TrainResponse::kDone), 0);
  EXPECT_EQ(registry_.GetStatus("m")->training_state,
            TrainingState::kCancelled);
  EXPECT_EQ(registry_.GetStatus("m")->version, 2);
}

TEST_F(TrainingSessionTest, ShutdownEndsUnavailableNamingTheVersionKept) {
  const absl::Status status = Run([&](const v1::TrainResponse& event) {
    if (event.has_epoch_end()) registry_.CancelAllTrainings();
    return true;
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_THAT(status.message(), HasSubstr("the server is shutting down"));
  EXPECT_THAT(status.message(), HasSubstr("epoch 2"));
  EXPECT_THAT(status.message(), HasSubstr("the model keeps version 2"));
  absl::StatusOr<ModelStatus> model = registry_.GetStatus("m");
  EXPECT_EQ(model->training_state, TrainingState::kCancelled);
  EXPECT_EQ(model->last_error, status.message());
}

TEST_F(TrainingSessionTest, AClientThatStopsReadingCancelsTheRun) {
  const absl::Status status =
      Run([](const v1::TrainResponse&) { return false; });
  EXPECT_EQ(status.code(), absl::StatusCode::kCancelled) << status;
  EXPECT_THAT(status.message(), HasSubstr("stopped reading"));
  EXPECT_EQ(events_.size(), 1u);
  EXPECT_EQ(registry_.GetStatus("m")->training_state,
            TrainingState::kCancelled);
}

TEST_F(TrainingSessionTest, DeletingTheModelCancelsWithItsOwnReason) {
  const absl::Status status = Run([&](const v1::TrainResponse& event) {
    if (event.has_progress()) {
      EXPECT_TRUE(registry_.Delete("m").ok());
    }
    return true;
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kCancelled) << status;
  EXPECT_THAT(status.message(), HasSubstr("was deleted"));
}

}  // namespace
}  // namespace bnmlp
