// A gRPC client that knows no .proto file: it learns the API from the
// server's reflection service (grpc.reflection.v1alpha) and speaks JSON, the
// way grpcurl does. Used by the e2e tests to drive the real bnmlp-server
// exactly as a grpcurl user would.
#ifndef BNMLP_TESTS_E2E_REFLECTION_REFLECTION_CLIENT_H_
#define BNMLP_TESTS_E2E_REFLECTION_REFLECTION_CLIENT_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor_database.h"
#include "google/protobuf/dynamic_message.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "grpcpp/channel.h"
#include "grpcpp/support/status.h"

namespace bnmlp::testing {

// Not thread-safe: use one per thread.
class ReflectionClient {
 public:
  explicit ReflectionClient(std::shared_ptr<grpc::Channel> channel);

  // The fully qualified names of the services the server offers.
  absl::StatusOr<std::vector<std::string>> ListServices();

  // The descriptor of a service, method, message or enum (fully qualified),
  // its file and dependencies fetched by reflection. NOT_FOUND if the server
  // does not know it.
  absl::StatusOr<const google::protobuf::Descriptor*> FindMessage(
      const std::string& name);
  absl::StatusOr<const google::protobuf::ServiceDescriptor*> FindService(
      const std::string& name);
  // grpcurl's `describe`: the symbol's definition in .proto syntax.
  absl::StatusOr<std::string> Describe(const std::string& symbol);

  struct CallResult {
    grpc::Status status;
    std::vector<std::string> responses_json;  // one per response message
  };
  // Calls `method` ("package.Service/Method") with the request given in
  // proto3 JSON, collecting every response (one for unary calls, the whole
  // stream for server-streaming ones) as compact JSON. Errors in the JSON or
  // the method name are INVALID_ARGUMENT / NOT_FOUND; RPC errors are in
  // CallResult::status.
  absl::StatusOr<CallResult> CallJson(
      const std::string& method, const std::string& request_json,
      absl::Duration timeout = absl::Seconds(120));

 private:
  // Asks the server for the file defining `symbol` (plus dependencies) and
  // adds them to the database behind pool_.
  absl::Status FetchFileContaining(const std::string& symbol);
  absl::StatusOr<grpc::reflection::v1alpha::ServerReflectionResponse> Ask(
      const grpc::reflection::v1alpha::ServerReflectionRequest& request);

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<grpc::reflection::v1alpha::ServerReflection::Stub> stub_;
  google::protobuf::SimpleDescriptorDatabase database_;
  google::protobuf::DescriptorPool pool_;
  google::protobuf::DynamicMessageFactory factory_;
};

}  // namespace bnmlp::testing

#endif  // BNMLP_TESTS_E2E_REFLECTION_REFLECTION_CLIENT_H_
