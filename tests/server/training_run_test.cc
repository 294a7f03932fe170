#include "server/training_run.h"

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/model_registry.h"
#include "tests/server/model_registry_test_util.h"

namespace bnmlp {
namespace {

using ::bnmlp::registry_testing::EpochEnd;
using ::bnmlp::registry_testing::Perturbed;
using ::bnmlp::registry_testing::SmallConfig;
using ::testing::HasSubstr;

TEST(TrainingRunTest, PublishIncrementsVersionAndKeepsOldSnapshotsAlive) {
  ModelRegistry registry({});
  ASSERT_TRUE(registry.Create("m", SmallConfig()).ok());
  absl::StatusOr<ModelSnapshot> v1 = registry.GetSnapshot("m");
  ASSERT_TRUE(v1.ok());
  absl::StatusOr<std::unique_ptr<TrainingRun>> run =
      registry.StartTraining("m", "tester");
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ((*run)->start().version, 1);
  EXPECT_EQ(registry.GetStatus("m")->training_state, TrainingState::kTraining);

  const Model<float> trained = Perturbed(*(*run)->start().model);
  EXPECT_EQ((*run)->Publish(trained, EpochEnd(1)).version, 2);
  absl::StatusOr<ModelSnapshot> v2 = registry.GetSnapshot("m");
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(v2->version, 2);
  EXPECT_EQ(v2->model->layer(0).weight, trained.layer(0).weight);
  // The old snapshot is untouched and still readable.
  EXPECT_NE(v1->model->layer(0).weight, v2->model->layer(0).weight);

  TrainingProgress mid;
  mid.epoch = 2;
  mid.batch = 1;
  EXPECT_EQ((*run)->Report(mid).version, 2);  // mid-epoch: no new version
  EXPECT_EQ((*run)->current_version(), 2);
  EXPECT_EQ(registry.GetStatus("m")->last_progress->progress.batch, 1);

  const ProgressRecord last = (*run)->Finish(absl::OkStatus());
  EXPECT_EQ(last.version, 2);
  EXPECT_EQ(last.progress.epoch, 2);  // the last progress reported
  absl::StatusOr<ModelStatus> status = registry.GetStatus("m");
  EXPECT_EQ(status->training_state, TrainingState::kTrained);
  EXPECT_EQ(status->last_progress->version, 2);
  EXPECT_TRUE(status->last_error.empty());
}

TEST(TrainingRunTest, SecondRunIsFailedPreconditionNamingTheFirst) {
  ModelRegistry registry({});
  ASSERT_TRUE(registry.Create("m", SmallConfig()).ok());
  absl::StatusOr<std::unique_ptr<TrainingRun>> first =
      registry.StartTraining("m", "ipv4:10.0.0.7:4242");
  ASSERT_TRUE(first.ok());
  const absl::Status second = registry.StartTraining("m", "other").status();
  EXPECT_EQ(second.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(second.message(), HasSubstr("ipv4:10.0.0.7:4242"));
  EXPECT_THAT(second.message(), HasSubstr("already training"));
  (*first)->Finish(absl::OkStatus());
  EXPECT_TRUE(registry.StartTraining("m", "other").ok());
}

TEST(TrainingRunTest, CancelledAndFailedRunsKeepTheLastVersion) {
  ModelRegistry registry({});
  ASSERT_TRUE(registry.Create("m", SmallConfig()).ok());
  {
    auto run = registry.StartTraining("m", "t");
    ASSERT_TRUE(run.ok());
    (*run)->Publish(Perturbed(*(*run)->start().model), EpochEnd(1));
    (*run)->Finish(absl::CancelledError("stopped by the client"));
  }
  absl::StatusOr<ModelStatus> status = registry.GetStatus("m");
  EXPECT_EQ(status->training_state, TrainingState::kCancelled);
  EXPECT_EQ(status->version, 2);
  EXPECT_EQ(status->last_error, "stopped by the client");
  {
    auto run = registry.StartTraining("m", "t");
    ASSERT_TRUE(run.ok());
    EXPECT_EQ((*run)->start().version, 2);
    (*run)->Finish(absl::InternalError("boom"));
  }
  status = registry.GetStatus("m");
  EXPECT_EQ(status->training_state, TrainingState::kFailed);
  EXPECT_EQ(status->version, 2);
  EXPECT_EQ(status->last_error, "boom");
}

TEST(TrainingRunTest, DestroyingAnUnfinishedRunMarksItFailed) {
  ModelRegistry registry({});
  ASSERT_TRUE(registry.Create("m", SmallConfig()).ok());
  { ASSERT_TRUE(registry.StartTraining("m", "t").ok()); }
  EXPECT_EQ(registry.GetStatus("m")->training_state, TrainingState::kFailed);
  EXPECT_TRUE(registry.StartTraining("m", "t").ok());
}

TEST(TrainingRunTest, DeleteCancelsTheRunAndOutlivesTheEntry) {
  ModelRegistry registry({});
  ASSERT_TRUE(registry.Create("m", SmallConfig()).ok());
  absl::StatusOr<std::unique_ptr<TrainingRun>> run =
      registry.StartTraining("m", "t");
  ASSERT_TRUE(run.ok());
  EXPECT_FALSE((*run)->cancel_requested());
  absl::StatusOr<bool> cancelled = registry.Delete("m");
  ASSERT_TRUE(cancelled.ok());
  EXPECT_TRUE(*cancelled);
  EXPECT_TRUE((*run)->cancel_requested());
  EXPECT_EQ((*run)->cancel_status().code(), absl::StatusCode::kCancelled);
  EXPECT_THAT((*run)->cancel_status().message(), HasSubstr("deleted"));
  // Publishing after the delete reaches nobody and breaks nothing.
  (*run)->Publish(*(*run)->start().model, EpochEnd(1));
  (*run)->Finish((*run)->cancel_status());
  EXPECT_EQ(registry.GetStatus("m").status().code(),
            absl::StatusCode::kNotFound);
  // The name is free again, for a brand-new model.
  absl::StatusOr<ModelStatus> again = registry.Create("m", SmallConfig());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->version, 1);
  EXPECT_EQ(*registry.Delete("m"), false);
}

TEST(TrainingRunTest, CancelAllTrainingsCancelsAndRefusesNewRuns) {
  ModelRegistry registry({});
  ASSERT_TRUE(registry.Create("a", SmallConfig()).ok());
  ASSERT_TRUE(registry.Create("b", SmallConfig()).ok());
  auto run = registry.StartTraining("a", "t");
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(registry.CancelAllTrainings(), 1);
  EXPECT_TRUE((*run)->cancel_requested());
  EXPECT_EQ((*run)->cancel_status(),
            absl::UnavailableError("the server is shutting down"));
  // A run cancelled by the shutdown ends as cancelled, whatever the code.
  (*run)->Finish((*run)->cancel_status());
  EXPECT_EQ(registry.GetStatus("a")->training_state, TrainingState::kCancelled);
  EXPECT_EQ(registry.StartTraining("b", "t").status().code(),
            absl::StatusCode::kUnavailable);
  // Serving continues meanwhile.
  EXPECT_TRUE(registry.GetSnapshot("b").ok());
}

}  // namespace
}  // namespace bnmlp
