// Which BnMlpService calls only read and which change state: the one table
// that roles (server/token_auth.h) are checked against.
#ifndef BNMLP_SERVER_RPC_ACCESS_H_
#define BNMLP_SERVER_RPC_ACCESS_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace bnmlp {

enum class RpcAccess {
  kRead,   // looks at models or datasets (Predict, Get*, List*, Export)
  kWrite,  // creates, changes or deletes them, or spends the server's
           // compute on them (Train)
};

// The access `method` (a BnMlpService method name, e.g. "Predict") needs.
// A name the table does not know needs kWrite: a new RPC is closed to
// readers until someone classifies it.
RpcAccess AccessOf(absl::string_view method);

// The methods the table lists, in its order (for the test that checks it
// against the service).
std::vector<std::string> ClassifiedMethods();

// "read" or "write".
absl::string_view AccessName(RpcAccess access);

}  // namespace bnmlp

#endif  // BNMLP_SERVER_RPC_ACCESS_H_
