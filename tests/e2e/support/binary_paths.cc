#include "tests/e2e/support/binary_paths.h"

namespace bnmlp::testing {

// Both macros are set by tests/e2e/support/CMakeLists.txt.
std::string BnmlpServerPath() { return BNMLP_SERVER_PATH; }
std::string BnmlpCliPath() { return BNMLP_CLI_PATH; }

}  // namespace bnmlp::testing
