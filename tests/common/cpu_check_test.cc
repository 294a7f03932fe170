// cmake/cpu_check.cc: a binary built for extensions the CPU lacks stops
// before main() with a message naming them and how to rebuild, exit 1; one
// built for this machine runs.
#include <sys/wait.h>

#include <cstdio>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

struct Outcome {
  int exit_status = -1;
  std::string output;  // stdout and stderr
};

Outcome RunProgram(const std::string& binary) {
  Outcome outcome;
  FILE* pipe = popen((binary + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return outcome;
  char buffer[256];
  while (fgets(buffer, sizeof(buffer), pipe) != nullptr)
    outcome.output += buffer;
  const int status = pclose(pipe);
  if (WIFEXITED(status)) outcome.exit_status = WEXITSTATUS(status);
  return outcome;
}

TEST(CpuCheckTest, MissingExtensionStopsBeforeMainWithTheFix) {
  // Built to require AVX-512 4FMAPS, which only Xeon Phi Knights Mill had.
  const Outcome outcome = RunProgram(BNMLP_CPU_CHECK_PROBE_MISSING);
  EXPECT_EQ(outcome.exit_status, 1) << outcome.output;
  EXPECT_THAT(outcome.output,
              AllOf(HasSubstr("cpu_check_probe_missing: this CPU lacks "
                              "avx5124fmaps, which this build needs"),
                    HasSubstr("-DBNMLP_MARCH=x86-64"),
                    HasSubstr("--build-arg BNMLP_MARCH=x86-64"),
                    Not(HasSubstr("reached main"))));
}

TEST(CpuCheckTest, BuildForThisMachineRuns) {
  const Outcome outcome = RunProgram(BNMLP_CPU_CHECK_PROBE);
  EXPECT_EQ(outcome.exit_status, 0) << outcome.output;
  EXPECT_EQ(outcome.output, "reached main\n");
}

}  // namespace
