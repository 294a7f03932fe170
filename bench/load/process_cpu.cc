#include "bench/load/process_cpu.h"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace bnmlp::bench {

absl::StatusOr<double> ProcessCpuSeconds(pid_t pid) {
  const std::string path = absl::StrCat("/proc/", pid, "/stat");
  std::ifstream file(path);
  std::string line;
  if (!std::getline(file, line)) {
    return absl::NotFoundError(absl::StrCat("cannot read ", path));
  }
  // The command name (field 2) may hold spaces; fields resume after ')'.
  const size_t close = line.rfind(')');
  if (close == std::string::npos) {
    return absl::DataLossError(absl::StrCat("unexpected ", path));
  }
  std::istringstream fields(line.substr(close + 2));
  std::string skip;
  // After ')' come state (3), ppid (4) ... utime (14) and stime (15).
  for (int field = 3; field < 14; ++field) fields >> skip;
  unsigned long long user_ticks = 0, system_ticks = 0;
  if (!(fields >> user_ticks >> system_ticks)) {
    return absl::DataLossError(absl::StrCat("unexpected ", path));
  }
  return static_cast<double>(user_ticks + system_ticks) /
         static_cast<double>(sysconf(_SC_CLK_TCK));
}

}  // namespace bnmlp::bench
