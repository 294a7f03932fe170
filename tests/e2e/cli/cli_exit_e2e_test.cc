// How the real `bnmlp` CLI ends, against the real bnmlp-server: Ctrl-C
// during training, a server shutting down during training, and the exit
// codes and messages for server errors, bad files, bad usage and
// unreachable servers; --help and --version.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "bnmlp/v1/bnmlp.pb.h"
#include "common/api_defaults.h"
#include "common/build_info.h"
#include "gmock/gmock.h"
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
using ::bnmlp::cli_testing::kInputError;
using ::bnmlp::cli_testing::kInterrupted;
using ::bnmlp::cli_testing::kRpcError;
using ::bnmlp::cli_testing::kUnreachable;
using ::bnmlp::cli_testing::kUsage;
using ::bnmlp::cli_testing::Lines;
using ::bnmlp::cli_testing::ParseJson;
using ::bnmlp::cli_testing::ReadAll;
using ::bnmlp::cli_testing::ReadUntil;
using ::bnmlp::client_testing::IdxBytes;
using ::bnmlp::client_testing::TempDir;
using ::bnmlp::testing::BnmlpCliPath;
using ::bnmlp::testing::CommandResult;
using ::bnmlp::testing::RunCommand;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// Whether `text` has a whole line starting with `prefix`.
bool HasLineStartingWith(const std::string& text, absl::string_view prefix) {
  if (text.empty() || text.back() != '\n') return false;
  for (const std::string& line : Lines(text)) {
    if (absl::StartsWith(line, prefix)) return true;
  }
  return false;
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

// How a background train ended.
struct TrainExit {
  int exit_code = -1;  // -1: it did not exit (see `failure`)
  std::string failure;
  std::string stderr_text;
};

// Drains the train's stdout, reaps it (within a minute) and reads its
// stderr.
TrainExit WaitForExit(const BackgroundTrain& train) {
  ReadAll(train.stdout_fd);
  close(train.stdout_fd);
  TrainExit ended;
  absl::StatusOr<int> wait_status =
      testing::WaitForChild(train.pid, absl::Seconds(60));
  ended.stderr_text = client_testing::ReadRawFile(train.stderr_path);
  if (!wait_status.ok()) {
    ended.failure = wait_status.status().ToString();
  } else if (!WIFEXITED(*wait_status)) {
    ended.failure = testing::DescribeWaitStatus(*wait_status);
  } else {
    ended.exit_code = WEXITSTATUS(*wait_status);
  }
  return ended;
}

// A long `bnmlp train` of model "long", interrupted by each test once its
// first progress line has arrived.
class CliTrainingTest : public CliTest {
 protected:
  void StartTrainingAndWaitForProgress() {
    files_ = WriteRandomImages(dir_);
    Create("long", "784-128-10");
    absl::StatusOr<BackgroundTrain> train =
        StartLongTrain(server_->address(), files_, dir_);
    ASSERT_TRUE(train.ok()) << train.status();
    train_ = *train;
    ASSERT_NE(ReadUntil(
                  train_.stdout_fd,
                  [](const std::string& text) {
                    return HasLineStartingWith(text, "epoch ");
                  },
                  absl::Seconds(60)),
              "")
        << "no progress line; server log:\n"
        << server_->Log();
  }

  IdxFiles files_;
  BackgroundTrain train_;
};

TEST_F(CliTrainingTest, CtrlCDuringTrainCancelsAndKeepsAPublishedVersion) {
  ASSERT_NO_FATAL_FAILURE(StartTrainingAndWaitForProgress());
  ASSERT_EQ(kill(train_.pid, SIGINT), 0);
  const TrainExit ended = WaitForExit(train_);
  ASSERT_NE(ended.exit_code, -1) << ended.failure << "\n" << ended.stderr_text;
  EXPECT_EQ(ended.exit_code, kInterrupted) << ended.stderr_text;

  // "... cancelled; the model keeps version N (cancelled)"
  const int64_t kept_version =
      NumberAfter(ended.stderr_text, "the model keeps version ");
  EXPECT_GE(kept_version, 1) << ended.stderr_text;

  const auto listed =
      ParseJson<v1::ListModelsResponse>(Bnmlp({"list", "--json"}).stdout_text);
  ASSERT_EQ(listed.models_size(), 1);
  EXPECT_EQ(listed.models(0).name(), "long");
  EXPECT_EQ(listed.models(0).version(), kept_version);
  EXPECT_EQ(listed.models(0).training_state(), v1::TRAINING_STATE_CANCELLED);
  // The model still answers.
  EXPECT_EQ(Bnmlp({"predict", "--name", "long", "--images", files_.images,
                   "--limit", "3"})
                .exit_code,
            0);
}

// A server shutting down ends a running Train with UNAVAILABLE and says
// why itself: the CLI passes that on (exit 3) instead of claiming the
// server was unreachable.
TEST_F(CliTrainingTest, ServerShutdownDuringTrainIsReportedInTheServersWords) {
  ASSERT_NO_FATAL_FAILURE(StartTrainingAndWaitForProgress());
  const std::string address = server_->address();
  absl::StatusOr<int> server_status = server_->Stop(SIGTERM);
  ASSERT_TRUE(server_status.ok()) << server_status.status();
  EXPECT_TRUE(WIFEXITED(*server_status) && WEXITSTATUS(*server_status) == 0)
      << testing::DescribeWaitStatus(*server_status);
  const TrainExit ended = WaitForExit(train_);
  ASSERT_NE(ended.exit_code, -1) << ended.failure << "\n" << ended.stderr_text;
  EXPECT_EQ(ended.exit_code, kUnreachable) << ended.stderr_text;
  EXPECT_THAT(
      ended.stderr_text,
      HasSubstr(absl::StrCat("bnmlp: error: Train: the server at ", address,
                             " is unavailable (UNAVAILABLE: the server "
                             "is shutting down: ")));
  EXPECT_THAT(ended.stderr_text, HasSubstr("; the model keeps version "));
  EXPECT_THAT(ended.stderr_text, Not(HasSubstr("unreachable")));
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
