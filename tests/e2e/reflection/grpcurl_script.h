// Reads the grpcurl commands out of examples/grpcurl.sh, so the e2e test can
// send the documented requests and the documentation cannot rot.
#ifndef BNMLP_TESTS_E2E_REFLECTION_GRPCURL_SCRIPT_H_
#define BNMLP_TESTS_E2E_REFLECTION_GRPCURL_SCRIPT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace bnmlp::testing {

struct GrpcurlCommand {
  enum class Verb { kList, kDescribe, kCall };
  int line = 0;  // 1-based, for messages
  Verb verb = Verb::kCall;
  // kDescribe: the symbol; kCall: "package.Service/Method".
  std::string target;
  // kCall: the -d request body; "{}" when the command has none.
  std::string request_json = "{}";
};

// Every line starting with `grpcurl ` must read
//   grpcurl -plaintext [-d '<json>'] "$ADDR" (list | describe <symbol> |
//                                             <package.Service/Method>)
// Other lines (comments, set, ADDR=...) are skipped. A grpcurl line in any
// other form is INVALID_ARGUMENT naming the line.
absl::StatusOr<std::vector<GrpcurlCommand>> ParseGrpcurlScript(
    absl::string_view script);

}  // namespace bnmlp::testing

#endif  // BNMLP_TESTS_E2E_REFLECTION_GRPCURL_SCRIPT_H_
