// Running a command to completion with captured output, for e2e tests.
#ifndef BNMLP_TESTS_E2E_SUPPORT_RUN_COMMAND_H_
#define BNMLP_TESTS_E2E_SUPPORT_RUN_COMMAND_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace bnmlp::testing {

struct CommandResult {
  // The exit code; 128 + N when the command was killed by signal N (the
  // shell's convention).
  int exit_code = -1;
  std::string stdout_text;
  std::string stderr_text;
};

// Runs argv (no shell; argv[0] is searched in PATH when it has no slash),
// feeding `stdin_text` to its stdin and capturing stdout and stderr
// completely (no size limit, no deadlock on large outputs). A command still
// running after `timeout` is killed and the result is DEADLINE_EXCEEDED, with
// the output so far in the message. A command that cannot be executed is an
// error naming it. A non-zero exit is not an error: check exit_code.
// Thread-safe. Ignores SIGPIPE in the calling process (a child closing its
// stdin early must not kill the test).
absl::StatusOr<CommandResult> RunCommand(
    const std::vector<std::string>& argv, const std::string& stdin_text = "",
    absl::Duration timeout = absl::Seconds(120));

}  // namespace bnmlp::testing

#endif  // BNMLP_TESTS_E2E_SUPPORT_RUN_COMMAND_H_
