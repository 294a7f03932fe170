// Where the build put the binaries the e2e tests run.
#ifndef BNMLP_TESTS_E2E_SUPPORT_BINARY_PATHS_H_
#define BNMLP_TESTS_E2E_SUPPORT_BINARY_PATHS_H_

#include <string>

namespace bnmlp::testing {

// $<TARGET_FILE:bnmlp-server> of this build tree.
std::string BnmlpServerPath();
// $<TARGET_FILE:bnmlp> (the CLI) of this build tree; empty if the build has
// no `bnmlp` target.
std::string BnmlpCliPath();

}  // namespace bnmlp::testing

#endif  // BNMLP_TESTS_E2E_SUPPORT_BINARY_PATHS_H_
