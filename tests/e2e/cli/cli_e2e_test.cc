// The real `bnmlp` CLI against the real bnmlp-server: every command, text
// and JSON output, progress lines and Train events, the server's defaults
// for unset options, Ctrl-C during training, a server shutting down during
// training, exit codes and messages for unreachable servers, bad files and
// bad usage, --version, and two replicas behind one client.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "bnmlp/v1/bnmlp.pb.h"
#include "common/api_defaults.h"
#include "common/build_info.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "grpc/health/v1/health.pb.h"
#include "gtest/gtest.h"
#include "tests/client/test_files.h"
#include "tests/e2e/support/child_process.h"
#include "tests/e2e/support/run_command.h"
#include "tests/e2e/support/server_process.h"

namespace bnmlp {
namespace {

using ::bnmlp::client_testing::IdxBytes;
using ::bnmlp::client_testing::SeparableCsv;
using ::bnmlp::client_testing::TempDir;
using ::bnmlp::testing::BnmlpCliPath;
using ::bnmlp::testing::CommandResult;
using ::bnmlp::testing::RunCommand;
using ::bnmlp::testing::ServerProcess;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// Exit codes documented in README.md.
constexpr int kRpcError = 1;
constexpr int kUsage = 2;
constexpr int kUnreachable = 3;
constexpr int kInputError = 4;
constexpr int kInterrupted = 130;

std::string Describe(const CommandResult& result) {
  return absl::StrCat("exit ", result.exit_code, "\n--- stdout:\n",
                      result.stdout_text, "--- stderr:\n", result.stderr_text);
}

template <typename Message>
Message ParseJson(const std::string& json) {
  Message message;
  const auto status = google::protobuf::util::JsonStringToMessage(
      std::string(absl::StripAsciiWhitespace(json)), &message);
  EXPECT_TRUE(status.ok()) << status.ToString() << " in: " << json;
  return message;
}

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<ServerProcess>> server =
        ServerProcess::Start();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  // Runs `bnmlp --server <the server> args...`.
  CommandResult Bnmlp(std::vector<std::string> args,
                      const std::string& stdin_text = "") {
    std::vector<std::string> argv = {BnmlpCliPath(), "--server",
                                     server_->address()};
    argv.insert(argv.end(), args.begin(), args.end());
    absl::StatusOr<CommandResult> result = RunCommand(argv, stdin_text);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : CommandResult();
  }

  // Creates `name` with `layers`, failing the test on error.
  void Create(const std::string& name, const std::string& layers,
              std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"create", "--name", name, "--layers",
                                     layers};
    args.insert(args.end(), extra.begin(), extra.end());
    const CommandResult result = Bnmlp(args);
    ASSERT_EQ(result.exit_code, 0) << Describe(result);
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
};

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

// Reads `fd` until a line starting with `prefix` has arrived; returns what
// was read, or "" after `timeout`.
std::string ReadUntilLineStartingWith(int fd, absl::string_view prefix,
                                      absl::Duration timeout) {
  std::string text;
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    for (const std::string& line : Lines(text)) {
      if (absl::StartsWith(line, prefix) && text.back() == '\n') return text;
    }
    pollfd poll_fd{fd, POLLIN, 0};
    if (poll(&poll_fd, 1, 100) <= 0) continue;
    char buffer[4096];
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n <= 0) break;
    text.append(buffer, n);
  }
  return "";
}

// The integer right after `marker` in `text`, or -1.
int64_t NumberAfter(absl::string_view text, absl::string_view marker) {
  const size_t at = text.find(marker);
  if (at == absl::string_view::npos) return -1;
  absl::string_view rest = text.substr(at + marker.size());
  rest = rest.substr(0, rest.find_first_not_of("0123456789"));
  int64_t number = -1;
  return absl::SimpleAtoi(rest, &number) ? number : -1;
}

std::string ReadAll(int fd) {
  std::string text;
  char buffer[4096];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof(buffer))) > 0) text.append(buffer, n);
  return text;
}

struct IdxFiles {
  std::string images;
  std::string labels;
};

// 6000 random 28x28 images with random labels: enough for an epoch to take
// a while, so that training is still running when a test interrupts it.
IdxFiles WriteRandomImages(const TempDir& dir) {
  constexpr int kImages = 6000;
  std::mt19937 rng(5);
  std::vector<uint8_t> pixels(kImages * 784);
  std::vector<uint8_t> labels(kImages);
  for (uint8_t& p : pixels) p = rng() % 256;
  for (uint8_t& l : labels) l = rng() % 10;
  return {dir.Write("images.idx", IdxBytes({kImages, 28, 28}, pixels)),
          dir.Write("labels.idx", IdxBytes({kImages}, labels))};
}

// A `bnmlp train` of 10000 epochs on `files`, running in the background
// with its stdout on a pipe and its stderr in a file.
struct BackgroundTrain {
  pid_t pid = -1;
  int stdout_fd = -1;
  std::string stderr_path;
};

absl::StatusOr<BackgroundTrain> StartLongTrain(const std::string& address,
                                               const IdxFiles& files,
                                               const TempDir& dir) {
  int out_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) {
    return absl::ErrnoToStatus(errno, "pipe2");
  }
  BackgroundTrain train;
  train.stderr_path = dir.path() + "/stderr.txt";
  const int err_fd =
      open(train.stderr_path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  absl::StatusOr<pid_t> pid =
      err_fd < 0
          ? absl::ErrnoToStatus(errno, "open " + train.stderr_path)
          : testing::SpawnChild(
                {BnmlpCliPath(), "--server", address, "train", "--name", "long",
                 "--train_images", files.images, "--train_labels", files.labels,
                 "--epochs", "10000", "--batch_size", "32"},
                {-1, out_pipe[1], err_fd});
  close(out_pipe[1]);
  if (err_fd >= 0) close(err_fd);
  if (!pid.ok()) {
    close(out_pipe[0]);
    return pid.status();
  }
  train.pid = *pid;
  train.stdout_fd = out_pipe[0];
  return train;
}

TEST_F(CliTest, CtrlCDuringTrainCancelsAndKeepsAPublishedVersion) {
  const IdxFiles files = WriteRandomImages(dir_);
  Create("long", "784-128-10");
  absl::StatusOr<BackgroundTrain> train =
      StartLongTrain(server_->address(), files, dir_);
  ASSERT_TRUE(train.ok()) << train.status();
  const std::string before =
      ReadUntilLineStartingWith(train->stdout_fd, "epoch ", absl::Seconds(60));
  ASSERT_NE(before, "") << "no progress line; server log:\n" << server_->Log();
  ASSERT_EQ(kill(train->pid, SIGINT), 0);
  ReadAll(train->stdout_fd);
  close(train->stdout_fd);
  absl::StatusOr<int> wait_status =
      testing::WaitForChild(train->pid, absl::Seconds(60));
  ASSERT_TRUE(wait_status.ok()) << wait_status.status();
  const std::string stderr_text =
      client_testing::ReadRawFile(train->stderr_path);
  ASSERT_TRUE(WIFEXITED(*wait_status))
      << testing::DescribeWaitStatus(*wait_status) << "\n"
      << stderr_text;
  EXPECT_EQ(WEXITSTATUS(*wait_status), kInterrupted) << stderr_text;

  // "... cancelled; the model keeps version N (cancelled)"
  const int64_t kept_version =
      NumberAfter(stderr_text, "the model keeps version ");
  EXPECT_GE(kept_version, 1) << stderr_text;

  const auto listed =
      ParseJson<v1::ListModelsResponse>(Bnmlp({"list", "--json"}).stdout_text);
  ASSERT_EQ(listed.models_size(), 1);
  EXPECT_EQ(listed.models(0).name(), "long");
  EXPECT_EQ(listed.models(0).version(), kept_version);
  EXPECT_EQ(listed.models(0).training_state(), v1::TRAINING_STATE_CANCELLED);
  // The model still answers.
  EXPECT_EQ(Bnmlp({"predict", "--name", "long", "--images", files.images,
                   "--limit", "3"})
                .exit_code,
            0);
}

// A server shutting down ends a running Train with UNAVAILABLE and says
// why itself: the CLI passes that on (exit 3) instead of claiming the
// server was unreachable.
TEST_F(CliTest, ServerShutdownDuringTrainIsReportedInTheServersWords) {
  const IdxFiles files = WriteRandomImages(dir_);
  Create("long", "784-128-10");
  absl::StatusOr<BackgroundTrain> train =
      StartLongTrain(server_->address(), files, dir_);
  ASSERT_TRUE(train.ok()) << train.status();
  const std::string before =
      ReadUntilLineStartingWith(train->stdout_fd, "epoch ", absl::Seconds(60));
  ASSERT_NE(before, "") << "no progress line; server log:\n" << server_->Log();

  const std::string address = server_->address();
  absl::StatusOr<int> server_status = server_->Stop(SIGTERM);
  ASSERT_TRUE(server_status.ok()) << server_status.status();
  EXPECT_TRUE(WIFEXITED(*server_status) && WEXITSTATUS(*server_status) == 0)
      << testing::DescribeWaitStatus(*server_status);
  ReadAll(train->stdout_fd);
  close(train->stdout_fd);
  absl::StatusOr<int> wait_status =
      testing::WaitForChild(train->pid, absl::Seconds(60));
  ASSERT_TRUE(wait_status.ok()) << wait_status.status();
  const std::string stderr_text =
      client_testing::ReadRawFile(train->stderr_path);
  ASSERT_TRUE(WIFEXITED(*wait_status))
      << testing::DescribeWaitStatus(*wait_status) << "\n"
      << stderr_text;
  EXPECT_EQ(WEXITSTATUS(*wait_status), kUnreachable) << stderr_text;
  EXPECT_THAT(stderr_text, HasSubstr(absl::StrCat(
                               "bnmlp: error: Train: the server at ", address,
                               " is unavailable (UNAVAILABLE: the server "
                               "is shutting down: ")));
  EXPECT_THAT(stderr_text, HasSubstr("; the model keeps version "));
  EXPECT_THAT(stderr_text, Not(HasSubstr("unreachable")));
}

TEST_F(CliTest, ServerErrorsExitOneWithTheServersMessage) {
  Create("dup", "2-2");
  const CommandResult again =
      Bnmlp({"create", "--name", "dup", "--layers", "2-2"});
  EXPECT_EQ(again.exit_code, kRpcError) << Describe(again);
  EXPECT_THAT(again.stderr_text, HasSubstr("CreateModel: ALREADY_EXISTS: "));
  const CommandResult missing = Bnmlp({"params", "--name", "nope"});
  EXPECT_EQ(missing.exit_code, kRpcError) << Describe(missing);
  EXPECT_THAT(missing.stderr_text, HasSubstr("GetParameters: NOT_FOUND: "));
}

TEST_F(CliTest, BadFilesExitFourWithTheReadersMessage) {
  Create("f", "2-4-2");
  const std::string missing = dir_.path() + "/missing.csv";
  const CommandResult no_file =
      Bnmlp({"train", "--name", "f", "--train_csv", missing});
  EXPECT_EQ(no_file.exit_code, kInputError) << Describe(no_file);
  EXPECT_THAT(no_file.stderr_text, HasSubstr(missing));

  const std::string malformed =
      dir_.Write("bad.csv", "1,2,0\n3,4,1\n5,oops,1\n");
  const CommandResult bad =
      Bnmlp({"train", "--name", "f", "--train_csv", malformed});
  EXPECT_EQ(bad.exit_code, kInputError) << Describe(bad);
  EXPECT_THAT(bad.stderr_text, AllOf(HasSubstr("bad.csv"), HasSubstr("oops"),
                                     HasSubstr("bad.csv:3:")));

  const std::string wide = dir_.Write("wide.csv", "1,2,3,0\n4,5,6,1\n");
  const CommandResult mismatch =
      Bnmlp({"train", "--name", "f", "--train_csv", wide});
  EXPECT_EQ(mismatch.exit_code, kInputError) << Describe(mismatch);
  EXPECT_THAT(
      mismatch.stderr_text,
      HasSubstr("has 3 features per sample, but model 'f' takes 2 inputs"));
}

// A label the model has no class for is the input's fault, found before
// anything is sent: exit 4, naming the file, the row and the class count.
TEST_F(CliTest, ALabelOutOfRangeForTheModelExitsFour) {
  Create("ten", "2-4-10");
  const std::string labels =
      dir_.Write("labels.csv", "0.1,0.2,3\n0.3,0.4,12\n0.5,0.6,9\n");
  const std::string expected =
      "labels.csv: data row 2 has class 12, which does not fit model 'ten': it "
      "has 10 classes (0 to 9)";
  const CommandResult trained =
      Bnmlp({"train", "--name", "ten", "--train_csv", labels});
  EXPECT_EQ(trained.exit_code, kInputError) << Describe(trained);
  EXPECT_THAT(trained.stderr_text, HasSubstr(expected));
  const CommandResult predicted =
      Bnmlp({"predict", "--name", "ten", "--csv", labels});
  EXPECT_EQ(predicted.exit_code, kInputError) << Describe(predicted);
  EXPECT_THAT(predicted.stderr_text, HasSubstr(expected));
  // Checked client-side: the server never saw a Train or Predict.
  EXPECT_THAT(server_->Log(), Not(HasSubstr("rpc=Train")));
  EXPECT_THAT(server_->Log(), Not(HasSubstr("rpc=Predict")));
}

// --timeout 5 is five seconds; durations with units keep working.
TEST_F(CliTest, TimeoutTakesABareNumberOfSeconds) {
  for (const char* timeout : {"5", "0.5", "5s", "500ms"}) {
    const CommandResult health = Bnmlp({"--timeout", timeout, "health"});
    EXPECT_EQ(health.exit_code, 0) << timeout << ": " << Describe(health);
  }
  const CommandResult zero = Bnmlp({"--timeout", "0", "list"});
  EXPECT_EQ(zero.exit_code, kUsage) << Describe(zero);
  EXPECT_THAT(zero.stderr_text, HasSubstr("--timeout and --rows_per_request "
                                          "must be positive"));
  const CommandResult words = Bnmlp({"--timeout", "five", "list"});
  EXPECT_EQ(words.exit_code, kUsage) << Describe(words);
  EXPECT_THAT(words.stderr_text, HasSubstr("expected seconds (e.g. 5 or 0.5)"));
}

TEST_F(CliTest, UsageErrorsExitTwo) {
  const struct {
    std::vector<std::string> args;
    const char* message;
  } cases[] = {
      {{"frobnicate"}, "unknown command 'frobnicate'"},
      {{"create", "--layers", "2-2"}, "--name is required"},
      {{"create", "--name", "x", "--layers", "2-"}, "--layers='2-'"},
      {{"create", "--name", "x", "--layers", "2-2", "--activation", "gelu"},
       "expected one of relu, tanh, sigmoid, identity"},
      {{"train", "--name", "x"}, "no training data"},
      {{"list", "--epochs", "3"}, "'bnmlp list' has no flag --epochs"},
      // 0 means "unset" on the wire: refused rather than silently defaulted.
      {{"train", "--name", "x", "--epochs", "0"},
       "--epochs=0: expected at least 1"},
      {{"train", "--name", "x", "--optimizer", "rmsprop"},
       "expected one of sgd, adam"},
  };
  for (const auto& c : cases) {
    const CommandResult result = Bnmlp(c.args);
    EXPECT_EQ(result.exit_code, kUsage) << Describe(result);
    EXPECT_THAT(result.stderr_text, HasSubstr(c.message));
  }
}

TEST(CliWithoutServerTest, UnreachableServerExitsThreeNamingTheAddress) {
  // Nothing listens on port 1 of loopback (binding it needs privileges).
  for (const std::vector<std::string>& command :
       {std::vector<std::string>{"health"},
        {"list"},
        {"train", "--name", "m", "--fashion_mnist"}}) {
    std::vector<std::string> argv = {BnmlpCliPath(), "--server", "127.0.0.1:1"};
    argv.insert(argv.end(), command.begin(), command.end());
    absl::StatusOr<CommandResult> result = RunCommand(argv);
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->exit_code, kUnreachable) << Describe(*result);
    EXPECT_THAT(result->stderr_text,
                HasSubstr("the server at 127.0.0.1:1 is unreachable"));
  }
}

TEST(CliWithoutServerTest, HelpExplainsCommandsAndFlags) {
  absl::StatusOr<CommandResult> help = RunCommand({BnmlpCliPath(), "--help"});
  ASSERT_TRUE(help.ok()) << help.status();
  EXPECT_EQ(help->exit_code, 0);
  EXPECT_THAT(
      help->stdout_text,
      AllOf(HasSubstr("health"), HasSubstr("create"), HasSubstr("train"),
            HasSubstr("predict"), HasSubstr("params"), HasSubstr("list"),
            HasSubstr("delete"), HasSubstr("Exit codes")));
  absl::StatusOr<CommandResult> train_help =
      RunCommand({BnmlpCliPath(), "train", "--help"});
  ASSERT_TRUE(train_help.ok()) << train_help.status();
  EXPECT_EQ(train_help->exit_code, 0);
  // Unset training options are the server's: the help names its defaults.
  EXPECT_THAT(
      train_help->stdout_text,
      AllOf(HasSubstr("--fashion_mnist"), HasSubstr("Ctrl-C"),
            HasSubstr(absl::StrCat("Unset: the server's default, ",
                                   api_defaults::kEpochs, ".")),
            HasSubstr(absl::StrCat("Unset: the server's default, ",
                                   api_defaults::kBatchSize, ".")),
            HasSubstr("Unset: the server's default, 0.05 for sgd, 0.001 for "
                      "adam."),
            HasSubstr("Unset: the server's default, 0.9."),
            Not(HasSubstr("--epochs (default:"))));
}

TEST(CliWithoutServerTest, VersionPrintsTheVersionAndGitCommit) {
  const std::string expected =
      absl::StrCat("bnmlp ", ProjectVersion(), " (git ", GitCommit(), ")\n");
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--version"},
        {"version"},
        {"train", "--version"}}) {
    std::vector<std::string> argv = {BnmlpCliPath()};
    argv.insert(argv.end(), args.begin(), args.end());
    absl::StatusOr<CommandResult> result = RunCommand(argv);
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->exit_code, 0) << Describe(*result);
    EXPECT_EQ(result->stdout_text, expected) << args[0];
    EXPECT_EQ(result->stderr_text, "");
  }
}

}  // namespace
}  // namespace bnmlp

namespace bnmlp {
namespace {

// Reads `fd` until `text` has appeared; returns what was read, or "" if
// `fd` ended or `timeout` passed first.
std::string ReadUntilContains(int fd, absl::string_view text,
                              absl::Duration timeout) {
  std::string read_so_far;
  const absl::Time deadline = absl::Now() + timeout;
  while (!absl::StrContains(read_so_far, text)) {
    if (absl::Now() >= deadline) return "";
    pollfd poll_fd{fd, POLLIN, 0};
    if (poll(&poll_fd, 1, 100) <= 0) continue;
    char buffer[4096];
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n <= 0) return "";
    read_so_far.append(buffer, n);
  }
  return read_so_far;
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
  const std::string connected = ReadUntilContains(
      err_pipe[0], "with 2 READY subchannels", absl::Seconds(60));
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
