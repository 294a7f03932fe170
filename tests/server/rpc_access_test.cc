#include "server/rpc_access.h"

#include <algorithm>
#include <string>
#include <vector>

#include "bnmlp/v1/bnmlp.grpc.pb.h"
#include "google/protobuf/descriptor.h"
#include "gtest/gtest.h"

namespace bnmlp {
namespace {

// The table names every method of the service: a method missing from it
// would silently be writer-only, and a misspelt entry would never match.
TEST(RpcAccessTest, EveryServiceMethodIsClassifiedByName) {
  const google::protobuf::ServiceDescriptor* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
          v1::BnMlpService::service_full_name());
  ASSERT_NE(service, nullptr);
  std::vector<std::string> service_methods;
  for (int i = 0; i < service->method_count(); ++i) {
    const google::protobuf::MethodDescriptor* method = service->method(i);
    service_methods.push_back(method->name());
    // Nothing that takes a stream from the client only reads.
    if (method->client_streaming()) {
      EXPECT_EQ(AccessOf(method->name()), RpcAccess::kWrite) << method->name();
    }
  }
  std::vector<std::string> listed = ClassifiedMethods();
  std::sort(service_methods.begin(), service_methods.end());
  std::sort(listed.begin(), listed.end());
  EXPECT_EQ(listed, service_methods);
}

TEST(RpcAccessTest, ReadsAndWrites) {
  for (const char* method :
       {"Predict", "GetParameters", "ListModels", "GetModel", "ListDatasets",
        "GetDataset", "ExportModel"}) {
    EXPECT_EQ(AccessOf(method), RpcAccess::kRead) << method;
  }
  for (const char* method : {"CreateModel", "Train", "DeleteModel",
                             "UploadDataset", "DeleteDataset", "ImportModel"}) {
    EXPECT_EQ(AccessOf(method), RpcAccess::kWrite) << method;
  }
}

TEST(RpcAccessTest, AnUnknownMethodNeedsWrite) {
  EXPECT_EQ(AccessOf("SomeFutureRpc"), RpcAccess::kWrite);
  EXPECT_EQ(AccessOf("predict"), RpcAccess::kWrite);
  EXPECT_EQ(AccessName(RpcAccess::kRead), "read");
  EXPECT_EQ(AccessName(RpcAccess::kWrite), "write");
}

}  // namespace
}  // namespace bnmlp
