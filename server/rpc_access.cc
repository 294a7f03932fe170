#include "server/rpc_access.h"

namespace bnmlp {
namespace {

struct MethodAccess {
  absl::string_view method;
  RpcAccess access;
};

// Every BnMlpService method (tests/server/rpc_access_test.cc checks the
// table against the service's descriptor, so none is forgotten).
constexpr MethodAccess kMethodAccess[] = {
    {"CreateModel", RpcAccess::kWrite},   {"Train", RpcAccess::kWrite},
    {"Predict", RpcAccess::kRead},        {"GetParameters", RpcAccess::kRead},
    {"ListModels", RpcAccess::kRead},     {"GetModel", RpcAccess::kRead},
    {"DeleteModel", RpcAccess::kWrite},   {"UploadDataset", RpcAccess::kWrite},
    {"ListDatasets", RpcAccess::kRead},   {"GetDataset", RpcAccess::kRead},
    {"DeleteDataset", RpcAccess::kWrite}, {"ExportModel", RpcAccess::kRead},
    {"ImportModel", RpcAccess::kWrite},
};

}  // namespace

RpcAccess AccessOf(absl::string_view method) {
  for (const MethodAccess& entry : kMethodAccess) {
    if (entry.method == method) return entry.access;
  }
  return RpcAccess::kWrite;
}

std::vector<std::string> ClassifiedMethods() {
  std::vector<std::string> methods;
  for (const MethodAccess& entry : kMethodAccess) {
    methods.emplace_back(entry.method);
  }
  return methods;
}

absl::string_view AccessName(RpcAccess access) {
  return access == RpcAccess::kRead ? "read" : "write";
}

}  // namespace bnmlp
