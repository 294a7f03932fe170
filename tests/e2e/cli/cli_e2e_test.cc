// The real `bnmlp` CLI against the real bnmlp-server: every command, text
// and JSON output, progress lines and Train events, the server's defaults
// for unset options, and two replicas behind one client. How it ends on
// errors, interruptions and bad usage: cli_exit_e2e_test.cc.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "bnmlp/v1/bnmlp.pb.h"
#include "common/api_defaults.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "grpc/health/v1/health.pb.h"
#include "gtest/gtest.h"
#include "tests/client/test_files.h"
#include "tests/e2e/cli/cli_test_support.h"
#include "tests/e2e/support/child_process.h"
#include "tests/e2e/support/run_command.h"
#include "tests/e2e/support/server_process.h"

namespace bnmlp {
namespace {

using ::bnmlp::cli_testing::CliTest;
using ::bnmlp::cli_testing::Describe;
using ::bnmlp::cli_testing::kUsage;
using ::bnmlp::cli_testing::Lines;
using ::bnmlp::cli_testing::ParseJson;
using ::bnmlp::cli_testing::ReadAll;
using ::bnmlp::cli_testing::ReadUntil;
using ::bnmlp::client_testing::IdxBytes;
using ::bnmlp::client_testing::SeparableCsv;
using ::bnmlp::testing::BnmlpCliPath;
using ::bnmlp::testing::CommandResult;
using ::bnmlp::testing::RunCommand;
using ::bnmlp::testing::ServerProcess;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

TEST_F(CliTest, HealthCreateTrainPredictParamsListDeleteOnCsv) {
  CommandResult health = Bnmlp({"health"});
  EXPECT_EQ(health.exit_code, 0) << Describe(health);
  EXPECT_THAT(health.stdout_text, HasSubstr("SERVING"));

  const std::string train = dir_.Write("train.csv", SeparableCsv(300, 4, 3, 1));
  const std::string test = dir_.Write("test.csv", SeparableCsv(100, 4, 3, 2));
  const CommandResult create =
      Bnmlp({"create", "--name", "blobs", "--layers", "4-16-3", "--seed", "7"});
  ASSERT_EQ(create.exit_code, 0) << Describe(create);
  EXPECT_THAT(
      create.stdout_text,
      HasSubstr("created model 'blobs': layers 4-16-3, classification"));

  const CommandResult trained =
      Bnmlp({"train", "--name", "blobs", "--train_csv", train,
             "--validation_csv", test, "--epochs", "8", "--batch_size", "20"});
  ASSERT_EQ(trained.exit_code, 0) << Describe(trained);
  EXPECT_THAT(trained.stdout_text, HasSubstr("epoch 8/8 done"));
  EXPECT_THAT(trained.stdout_text, HasSubstr("trained 8 epochs in"));
  EXPECT_THAT(trained.stdout_text, HasSubstr("validation accuracy"));
  EXPECT_THAT(trained.stderr_text, HasSubstr("300 samples x 4 features"));

  const CommandResult predicted =
      Bnmlp({"predict", "--name", "blobs", "--csv", test, "--summary"});
  ASSERT_EQ(predicted.exit_code, 0) << Describe(predicted);
  EXPECT_THAT(predicted.stdout_text, HasSubstr("confusion matrix"));
  // "accuracy 0.9300 (93 of 100) of model 'blobs' version N"
  const std::vector<std::string> words =
      absl::StrSplit(predicted.stdout_text, ' ');
  ASSERT_GE(words.size(), 2u);
  ASSERT_EQ(words[0], "accuracy");
  double accuracy = 0;
  ASSERT_TRUE(absl::SimpleAtod(words[1], &accuracy));
  // Chance is 1/3; a working pipeline separates these blobs easily.
  EXPECT_GT(accuracy, 0.7) << predicted.stdout_text;

  const CommandResult params = Bnmlp({"params", "--name", "blobs"});
  ASSERT_EQ(params.exit_code, 0) << Describe(params);
  EXPECT_THAT(params.stdout_text, HasSubstr("layer 1: 4 -> 16"));
  EXPECT_THAT(params.stdout_text, HasSubstr("running_var"));
  EXPECT_THAT(params.stdout_text, HasSubstr("layer 2: 16 -> 3"));

  const CommandResult listed = Bnmlp({"list"});
  ASSERT_EQ(listed.exit_code, 0) << Describe(listed);
  EXPECT_THAT(listed.stdout_text, AllOf(HasSubstr("blobs"), HasSubstr("4-16-3"),
                                        HasSubstr("trained")));

  const CommandResult deleted = Bnmlp({"delete", "--name", "blobs"});
  ASSERT_EQ(deleted.exit_code, 0) << Describe(deleted);
  EXPECT_THAT(deleted.stdout_text, HasSubstr("deleted model 'blobs'"));
  EXPECT_EQ(Bnmlp({"list"}).stdout_text, "no models\n");
}

TEST_F(CliTest, JsonOutputParsesAsTheApiMessages) {
  const std::string train = dir_.Write("train.csv", SeparableCsv(60, 3, 2, 3));
  const CommandResult create =
      Bnmlp({"--json", "create", "--name", "j", "--layers", "3,8,2"});
  ASSERT_EQ(create.exit_code, 0) << Describe(create);
  const auto info = ParseJson<v1::ModelInfo>(create.stdout_text);
  EXPECT_EQ(info.name(), "j");
  EXPECT_EQ(info.version(), 1);

  const CommandResult trained =
      Bnmlp({"train", "--json", "--name", "j", "--train_csv", train, "--epochs",
             "2", "--batch_size", "10"});
  ASSERT_EQ(trained.exit_code, 0) << Describe(trained);
  const std::vector<std::string> lines = Lines(trained.stdout_text);
  ASSERT_GE(lines.size(), 3u);  // At least two epoch ends and the summary.
  for (const std::string& line : lines) ParseJson<v1::TrainResponse>(line);
  const auto last = ParseJson<v1::TrainResponse>(lines.back());
  ASSERT_TRUE(last.has_done()) << lines.back();
  const v1::TrainProgress& summary = last.done();
  EXPECT_EQ(summary.epochs(), 2);

  const auto listed =
      ParseJson<v1::ListModelsResponse>(Bnmlp({"list", "--json"}).stdout_text);
  ASSERT_EQ(listed.models_size(), 1);
  EXPECT_EQ(listed.models(0).version(), summary.version());
  EXPECT_EQ(listed.models(0).training_state(), v1::TRAINING_STATE_TRAINED);

  const auto params = ParseJson<v1::GetParametersResponse>(
      Bnmlp({"params", "--json", "--name", "j"}).stdout_text);
  ASSERT_EQ(params.layers_size(), 2);
  EXPECT_EQ(params.layers(0).weight().values_size(), 8 * 3);
  EXPECT_EQ(params.layers(0).running_mean().values_size(), 8);

  const CommandResult predicted =
      Bnmlp({"predict", "--json", "--probabilities", "--name", "j"},
            "0.1,0.9,0.5\n0.8,0.1,0.3\n");
  ASSERT_EQ(predicted.exit_code, 0) << Describe(predicted);
  const auto prediction =
      ParseJson<google::protobuf::Struct>(predicted.stdout_text);
  EXPECT_EQ(prediction.fields().at("classes").list_value().values_size(), 2);
  EXPECT_EQ(prediction.fields()
                .at("outputs")
                .struct_value()
                .fields()
                .at("values")
                .list_value()
                .values_size(),
            4);

  const auto health = ParseJson<grpc::health::v1::HealthCheckResponse>(
      Bnmlp({"health", "--json"}).stdout_text);
  EXPECT_EQ(health.status(), grpc::health::v1::HealthCheckResponse::SERVING);
}

TEST_F(CliTest, ProgressIsOneLinePerUpdateWhenNotATerminal) {
  const std::string train = dir_.Write("train.csv", SeparableCsv(200, 3, 2, 4));
  Create("p", "3-8-2");
  const CommandResult trained =
      Bnmlp({"train", "--name", "p", "--train_csv", train, "--epochs", "3",
             "--batch_size", "10"});
  ASSERT_EQ(trained.exit_code, 0) << Describe(trained);
  EXPECT_EQ(trained.stdout_text.find('\r'), std::string::npos);
  int epoch_ends = 0;
  int progress_lines = 0;
  for (const std::string& line : Lines(trained.stdout_text)) {
    if (!absl::StartsWith(line, "epoch ")) continue;
    ++progress_lines;
    EXPECT_THAT(line, HasSubstr(" loss "));
    if (absl::StrContains(line, " done ")) ++epoch_ends;
  }
  EXPECT_EQ(epoch_ends, 3) << trained.stdout_text;
  EXPECT_GE(progress_lines, 3);
}

// `bnmlp train --json` prints one TrainResponse per line, so scripts count
// epochs with `jq 'select(.epochEnd)'` and find the summary with
// `select(.done)`: exactly one epoch_end per epoch, one done, last.
TEST_F(CliTest, TrainJsonHasOneEpochEndPerEpochAndTheDoneSummaryLast) {
  const std::string train = dir_.Write("train.csv", SeparableCsv(200, 3, 2, 4));
  Create("e", "3-8-2");
  const CommandResult trained =
      Bnmlp({"train", "--json", "--name", "e", "--train_csv", train, "--epochs",
             "3", "--batch_size", "10"});
  ASSERT_EQ(trained.exit_code, 0) << Describe(trained);
  const std::vector<std::string> lines = Lines(trained.stdout_text);
  std::vector<v1::TrainProgress> epoch_ends;
  int done_lines = 0;
  for (const std::string& line : lines) {
    const auto event = ParseJson<v1::TrainResponse>(line);
    if (event.has_epoch_end()) {
      // The key jq selects on: proto3 JSON's name of the oneof field.
      EXPECT_THAT(line, StartsWith("{\"epochEnd\":"));
      epoch_ends.push_back(event.epoch_end());
    } else if (event.has_done()) {
      EXPECT_THAT(line, StartsWith("{\"done\":"));
      ++done_lines;
    } else {
      EXPECT_TRUE(event.has_progress()) << line;
    }
  }
  ASSERT_EQ(epoch_ends.size(), 3u) << trained.stdout_text;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(epoch_ends[i].epoch(), i + 1);
    EXPECT_EQ(epoch_ends[i].batch(), epoch_ends[i].batches_per_epoch());
  }
  EXPECT_EQ(done_lines, 1) << trained.stdout_text;
  const auto last = ParseJson<v1::TrainResponse>(lines.back());
  ASSERT_TRUE(last.has_done()) << lines.back();
  // The summary repeats the last epoch's figures and version; it is not a
  // fourth epoch.
  EXPECT_EQ(last.done().epoch(), 3);
  EXPECT_EQ(last.done().version(), epoch_ends.back().version());
  EXPECT_EQ(last.done().loss(), epoch_ends.back().loss());
}

// Options the user does not give are left out of the requests, so the
// server's documented defaults (common/api_defaults.h) apply, not the CLI's.
TEST_F(CliTest, UnsetOptionsTakeTheServersDefaults) {
  const CommandResult create =
      Bnmlp({"create", "--json", "--name", "d", "--layers", "3-8-2"});
  ASSERT_EQ(create.exit_code, 0) << Describe(create);
  const auto info = ParseJson<v1::ModelInfo>(create.stdout_text);
  EXPECT_EQ(info.task(), v1::TASK_CLASSIFICATION);
  EXPECT_EQ(info.normalization(), v1::NORMALIZATION_PRE_ACTIVATION);
  EXPECT_EQ(info.activation(), v1::ACTIVATION_RELU);
  EXPECT_DOUBLE_EQ(info.batch_norm_momentum(),
                   api_defaults::kBatchNormMomentum);
  EXPECT_DOUBLE_EQ(info.batch_norm_epsilon(), api_defaults::kBatchNormEpsilon);
  EXPECT_EQ(info.seed(), api_defaults::kSeed);
  // The new enum names in the JSON output.
  EXPECT_THAT(create.stdout_text,
              HasSubstr("\"normalization\":\"NORMALIZATION_PRE_ACTIVATION\""));

  // Three default batches' worth of samples: the server's batch size shows
  // as batches_per_epoch, its epoch count as the number of epoch ends.
  const int samples = 3 * api_defaults::kBatchSize;
  const std::string train =
      dir_.Write("train.csv", SeparableCsv(samples, 3, 2, 5));
  const CommandResult trained =
      Bnmlp({"train", "--json", "--name", "d", "--train_csv", train});
  ASSERT_EQ(trained.exit_code, 0) << Describe(trained);
  int epoch_ends = 0;
  for (const std::string& line : Lines(trained.stdout_text)) {
    const auto event = ParseJson<v1::TrainResponse>(line);
    if (!event.has_epoch_end()) continue;
    ++epoch_ends;
    EXPECT_EQ(event.epoch_end().epochs(), api_defaults::kEpochs);
    EXPECT_EQ(event.epoch_end().batches_per_epoch(), 3);
  }
  EXPECT_EQ(epoch_ends, api_defaults::kEpochs) << trained.stdout_text;

  // Text mode says which settings are the server's.
  const CommandResult text =
      Bnmlp({"train", "--name", "d", "--train_csv", train, "--epochs", "2"});
  ASSERT_EQ(text.exit_code, 0) << Describe(text);
  EXPECT_THAT(
      text.stdout_text,
      HasSubstr(absl::StrCat("; epochs 2, batch size ",
                             api_defaults::kBatchSize, " (server default)\n")));
}

// Every int64 of the JSON output is a string, as proto3 JSON writes them and
// as `list --json` shows the same version.
TEST_F(CliTest, PredictJsonWritesTheVersionAsAString) {
  const std::string train = dir_.Write("train.csv", SeparableCsv(40, 3, 2, 6));
  Create("v", "3-4-2");
  ASSERT_EQ(Bnmlp({"train", "--name", "v", "--train_csv", train, "--epochs",
                   "2", "--batch_size", "10"})
                .exit_code,
            0);
  const CommandResult predicted =
      Bnmlp({"predict", "--json", "--probabilities", "--name", "v"}, "1,2,3\n");
  ASSERT_EQ(predicted.exit_code, 0) << Describe(predicted);
  const auto prediction =
      ParseJson<google::protobuf::Struct>(predicted.stdout_text);
  const google::protobuf::Value& version = prediction.fields().at("version");
  ASSERT_EQ(version.kind_case(), google::protobuf::Value::kStringValue)
      << predicted.stdout_text;
  EXPECT_EQ(version.string_value(), "3");  // 1 at creation + 2 epochs.
  const auto listed =
      ParseJson<v1::ListModelsResponse>(Bnmlp({"list", "--json"}).stdout_text);
  ASSERT_EQ(listed.models_size(), 1);
  EXPECT_EQ(absl::StrCat(listed.models(0).version()), version.string_value());
  // The outputs are shaped like the API's Tensor: int64 dimensions too.
  EXPECT_THAT(predicted.stdout_text, HasSubstr("\"shape\":[\"1\",\"2\"]"));
}

TEST_F(CliTest, TrainsAndPredictsIdxFilesWithAccuracyAndConfusionMatrix) {
  // 4x4 images: class 1 lights the top half, class 0 the bottom half.
  std::vector<uint8_t> pixels;
  std::vector<uint8_t> labels;
  for (int i = 0; i < 64; ++i) {
    const uint8_t label = i % 2;
    labels.push_back(label);
    for (int p = 0; p < 16; ++p) {
      pixels.push_back((p < 8) == (label == 1) ? 200 + i % 50 : i % 30);
    }
  }
  const std::string images =
      dir_.Write("images.idx", IdxBytes({64, 4, 4}, pixels));
  const std::string label_file =
      dir_.Write("labels.idx", IdxBytes({64}, labels));
  Create("idx", "16-8-2");
  const CommandResult trained = Bnmlp(
      {"train", "--name", "idx", "--train_images", images, "--train_labels",
       label_file, "--epochs", "5", "--batch_size", "16"});
  ASSERT_EQ(trained.exit_code, 0) << Describe(trained);

  const CommandResult predicted =
      Bnmlp({"predict", "--name", "idx", "--images", images, "--labels",
             label_file, "--class_names", "bottom,top", "--limit", "10"});
  ASSERT_EQ(predicted.exit_code, 0) << Describe(predicted);
  const std::vector<std::string> lines = Lines(predicted.stdout_text);
  EXPECT_THAT(lines[0], AllOf(HasSubstr("PREDICTED"), HasSubstr("TRUE")));
  EXPECT_THAT(lines[1], AllOf(StartsWith("0 "), HasSubstr("0 bottom")));
  EXPECT_THAT(predicted.stdout_text, HasSubstr("of 10) of model 'idx'"));
  EXPECT_THAT(predicted.stdout_text, HasSubstr("1 top"));
}

TEST_F(CliTest, PredictsUnlabelledCsvFromStdin) {
  Create("s", "3-4-2");
  const CommandResult predicted =
      Bnmlp({"predict", "--name", "s"}, "1,2,3\n4,5,6\n7,8,9\n");
  ASSERT_EQ(predicted.exit_code, 0) << Describe(predicted);
  const std::vector<std::string> lines = Lines(predicted.stdout_text);
  ASSERT_EQ(lines.size(), 4u) << predicted.stdout_text;  // Header + 3 rows.
  EXPECT_THAT(lines[3], StartsWith("2 "));
  EXPECT_THAT(predicted.stdout_text, ::testing::Not(HasSubstr("accuracy")));
}

TEST_F(CliTest, RegressionTrainsAndReportsMeanSquaredError) {
  std::string csv;
  for (int i = 0; i < 80; ++i) {
    const float a = (i % 9) / 9.0f, b = (i % 7) / 7.0f;
    absl::StrAppend(&csv, a, ",", b, ",", a + b, "\n");
  }
  const std::string data = dir_.Write("sum.csv", csv);
  Create("sum", "2-8-1", {"--task", "regression"});
  const CommandResult trained =
      Bnmlp({"train", "--name", "sum", "--train_csv", data, "--epochs", "3",
             "--batch_size", "16"});
  ASSERT_EQ(trained.exit_code, 0) << Describe(trained);
  EXPECT_THAT(trained.stdout_text, ::testing::Not(HasSubstr("accuracy")));
  const CommandResult predicted =
      Bnmlp({"predict", "--name", "sum", "--csv", data, "--summary"});
  ASSERT_EQ(predicted.exit_code, 0) << Describe(predicted);
  EXPECT_THAT(predicted.stdout_text, StartsWith("mean squared error "));
}

// Replicas behind one client: with `--lb_policy round_robin` over an ipv4:
// target list, one client's calls (here Predict's chunks) alternate between
// the replicas; with the default pick_first they all go to one. Both
// replicas hold the same model (created with the same seed), as round robin
// requires with an in-memory registry.
//
// gRPC's round_robin connects to every address at once but picks only
// among the connections that are already READY: calls made before the
// second replica's connection is up all go to the first. The CLI sends its
// first call (GetModel) as soon as one connection is ready, so on a busy
// machine (a parallel ctest run) every Predict chunk could go out before
// the second connection was up, and the replicas' counts then depended on
// timing. So the CLI reads its rows from stdin here, and the test holds
// them back until the CLI's round_robin policy reports both connections
// READY (gRPC's own trace, GRPC_TRACE=round_robin, on the CLI's stderr):
// from then on, picks alternate, and the split is exact.
TEST(CliReplicasTest, RoundRobinSpreadsCallsOverAnIpv4TargetList) {
  absl::StatusOr<std::unique_ptr<ServerProcess>> a = ServerProcess::Start();
  ASSERT_TRUE(a.ok()) << a.status();
  absl::StatusOr<std::unique_ptr<ServerProcess>> b = ServerProcess::Start();
  ASSERT_TRUE(b.ok()) << b.status();
  for (const ServerProcess* server : {a->get(), b->get()}) {
    absl::StatusOr<CommandResult> r =
        RunCommand({BnmlpCliPath(), "--server", server->address(), "create",
                    "--name", "m", "--layers", "3-4-2", "--seed", "5"});
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->exit_code, 0) << Describe(*r);
  }
  const std::string rows = SeparableCsv(12, 3, 2, 1);  // 6 chunks of 2 rows
  const std::string target =
      absl::StrCat("ipv4:", (*a)->address(), ",", (*b)->address());
  auto predicts_on = [](const ServerProcess& server) {
    const std::vector<std::string> lines = Lines(server.Log());
    return std::count_if(lines.begin(), lines.end(), [](const std::string& l) {
      return absl::StrContains(l, "rpc=Predict");
    });
  };

  // pick_first: every chunk on the first replica that answered. The server
  // logs a call before it answers it, so the counts are complete as soon as
  // the CLI has exited.
  absl::StatusOr<CommandResult> picked_first = RunCommand(
      {BnmlpCliPath(), "--server", target, "--lb_policy", "pick_first",
       "predict", "--name", "m", "--rows_per_request", "2"},
      rows);
  ASSERT_TRUE(picked_first.ok()) << picked_first.status();
  ASSERT_EQ(picked_first->exit_code, 0) << Describe(*picked_first);
  const int64_t first_a = predicts_on(**a), first_b = predicts_on(**b);
  EXPECT_EQ(first_a + first_b, 6);
  EXPECT_TRUE(first_a == 0 || first_b == 0) << first_a << " vs " << first_b;

  // round_robin, with the rows held back until both connections are READY.
  int in_pipe[2], err_pipe[2];
  ASSERT_EQ(pipe2(in_pipe, O_CLOEXEC), 0);
  ASSERT_EQ(pipe2(err_pipe, O_CLOEXEC), 0);
  absl::StatusOr<pid_t> pid = testing::SpawnChild(
      {"env", "GRPC_TRACE=round_robin", "GRPC_VERBOSITY=info", BnmlpCliPath(),
       "--server", target, "--lb_policy", "round_robin", "predict", "--name",
       "m", "--rows_per_request", "2"},
      {in_pipe[0], -1, err_pipe[1]});
  close(in_pipe[0]);
  close(err_pipe[1]);
  ASSERT_TRUE(pid.ok()) << pid.status();
  // gRPC 1.51's words (round_robin.cc) for a picker over both connections.
  const std::string connected = ReadUntil(
      err_pipe[0],
      [](const std::string& text) {
        return absl::StrContains(text, "with 2 READY subchannels");
      },
      absl::Seconds(60));
  const bool rows_written =
      !connected.empty() && write(in_pipe[1], rows.data(), rows.size()) ==
                                static_cast<ssize_t>(rows.size());
  close(in_pipe[1]);
  const std::string rest = ReadAll(err_pipe[0]);
  close(err_pipe[0]);
  absl::StatusOr<int> wait_status =
      testing::WaitForChild(*pid, absl::Seconds(60));
  ASSERT_FALSE(connected.empty())
      << "the CLI's round_robin policy never reported both replicas READY; "
         "its stderr:\n"
      << rest;
  ASSERT_TRUE(rows_written);
  ASSERT_TRUE(wait_status.ok()) << wait_status.status();
  ASSERT_TRUE(WIFEXITED(*wait_status) && WEXITSTATUS(*wait_status) == 0)
      << testing::DescribeWaitStatus(*wait_status) << "\n"
      << connected << rest;
  EXPECT_EQ(predicts_on(**a) - first_a, 3);
  EXPECT_EQ(predicts_on(**b) - first_b, 3);

  absl::StatusOr<CommandResult> bad = RunCommand(
      {BnmlpCliPath(), "--server", target, "--lb_policy", "random", "list"});
  ASSERT_TRUE(bad.ok()) << bad.status();
  EXPECT_EQ(bad->exit_code, kUsage);
  EXPECT_THAT(bad->stderr_text, HasSubstr("--lb_policy must be"));
}

}  // namespace
}  // namespace bnmlp
