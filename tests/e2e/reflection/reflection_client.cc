#include "tests/e2e/reflection/reflection_client.h"

#include <chrono>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/client_context.h"
#include "grpcpp/completion_queue.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/support/byte_buffer.h"

namespace bnmlp::testing {
namespace {

namespace reflection = ::grpc::reflection::v1alpha;
namespace protobuf = ::google::protobuf;

absl::Status FromGrpc(const grpc::Status& status, absl::string_view what) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      absl::StrCat(what, ": ", status.error_message()));
}

void SetDeadline(grpc::ClientContext& context, absl::Duration timeout) {
  context.set_deadline(std::chrono::system_clock::now() +
                       absl::ToChronoNanoseconds(timeout));
}

// Drives one generic call through a completion queue, one operation at a
// time. Works for unary and server-streaming methods alike: both are one
// request message followed by response messages on the wire.
class GenericCall {
 public:
  GenericCall(const std::shared_ptr<grpc::Channel>& channel,
              const std::string& path, absl::Duration timeout)
      : stub_(channel) {
    SetDeadline(context_, timeout);
    call_ = stub_.PrepareCall(&context_, path, &queue_);
  }

  ~GenericCall() {
    call_.reset();
    queue_.Shutdown();
    void* tag;
    bool ok;
    while (queue_.Next(&tag, &ok)) {
    }
  }

  grpc::Status Run(const std::string& request,
                   std::vector<std::string>& responses) {
    call_->StartCall(Tag(1));
    if (Await(1)) {
      grpc::Slice slice(request);
      grpc::ByteBuffer buffer(&slice, 1);
      call_->Write(buffer, Tag(2));
      if (Await(2)) {
        call_->WritesDone(Tag(3));
        Await(3);
        grpc::ByteBuffer response;
        while (true) {
          call_->Read(&response, Tag(4));
          if (!Await(4)) break;
          responses.push_back(Flatten(response));
        }
      }
    }
    grpc::Status status;
    call_->Finish(&status, Tag(5));
    Await(5);
    return status;
  }

 private:
  static void* Tag(intptr_t n) { return reinterpret_cast<void*>(n); }

  // Waits for the operation `n`; its `ok` says whether it succeeded.
  bool Await(intptr_t n) {
    void* tag = nullptr;
    bool ok = false;
    if (!queue_.Next(&tag, &ok) || tag != Tag(n)) return false;
    return ok;
  }

  static std::string Flatten(const grpc::ByteBuffer& buffer) {
    std::vector<grpc::Slice> slices;
    std::string bytes;
    if (!buffer.Dump(&slices).ok()) return bytes;
    for (const grpc::Slice& slice : slices) {
      bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
    }
    return bytes;
  }

  grpc::GenericStub stub_;
  grpc::ClientContext context_;
  grpc::CompletionQueue queue_;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call_;
};

}  // namespace

ReflectionClient::ReflectionClient(std::shared_ptr<grpc::Channel> channel)
    : channel_(std::move(channel)),
      stub_(reflection::ServerReflection::NewStub(channel_)),
      pool_(&database_) {}

absl::StatusOr<reflection::ServerReflectionResponse> ReflectionClient::Ask(
    const reflection::ServerReflectionRequest& request) {
  grpc::ClientContext context;
  SetDeadline(context, absl::Seconds(30));
  auto stream = stub_->ServerReflectionInfo(&context);
  reflection::ServerReflectionResponse response;
  const bool exchanged = stream->Write(request) && stream->Read(&response);
  stream->WritesDone();
  const grpc::Status status = stream->Finish();
  if (!status.ok()) return FromGrpc(status, "ServerReflectionInfo");
  if (!exchanged) {
    return absl::UnavailableError("reflection stream ended without an answer");
  }
  if (response.has_error_response()) {
    return absl::Status(
        static_cast<absl::StatusCode>(response.error_response().error_code()),
        absl::StrCat("reflection: ",
                     response.error_response().error_message()));
  }
  return response;
}

absl::StatusOr<std::vector<std::string>> ReflectionClient::ListServices() {
  reflection::ServerReflectionRequest request;
  request.set_list_services("");
  absl::StatusOr<reflection::ServerReflectionResponse> response = Ask(request);
  if (!response.ok()) return response.status();
  std::vector<std::string> names;
  for (const reflection::ServiceResponse& service :
       response->list_services_response().service()) {
    names.push_back(service.name());
  }
  return names;
}

absl::Status ReflectionClient::FetchFileContaining(const std::string& symbol) {
  reflection::ServerReflectionRequest request;
  request.set_file_containing_symbol(symbol);
  absl::StatusOr<reflection::ServerReflectionResponse> response = Ask(request);
  if (!response.ok()) return response.status();
  for (const std::string& bytes :
       response->file_descriptor_response().file_descriptor_proto()) {
    protobuf::FileDescriptorProto file;
    if (!file.ParseFromString(bytes)) {
      return absl::DataLossError(
          absl::StrCat("unparsable FileDescriptorProto for ", symbol));
    }
    // Add() refuses files already known (dependencies sent again): fine.
    database_.Add(file);
  }
  return absl::OkStatus();
}

absl::StatusOr<const protobuf::Descriptor*> ReflectionClient::FindMessage(
    const std::string& name) {
  if (const protobuf::Descriptor* found = pool_.FindMessageTypeByName(name)) {
    return found;
  }
  if (absl::Status status = FetchFileContaining(name); !status.ok()) {
    return status;
  }
  if (const protobuf::Descriptor* found = pool_.FindMessageTypeByName(name)) {
    return found;
  }
  return absl::NotFoundError(absl::StrCat("no message type ", name));
}

absl::StatusOr<const protobuf::ServiceDescriptor*>
ReflectionClient::FindService(const std::string& name) {
  if (const auto* found = pool_.FindServiceByName(name)) return found;
  if (absl::Status status = FetchFileContaining(name); !status.ok()) {
    return status;
  }
  if (const auto* found = pool_.FindServiceByName(name)) return found;
  return absl::NotFoundError(absl::StrCat("no service ", name));
}

absl::StatusOr<std::string> ReflectionClient::Describe(
    const std::string& symbol) {
  if (absl::Status status = FetchFileContaining(symbol); !status.ok()) {
    return status;
  }
  if (const auto* service = pool_.FindServiceByName(symbol)) {
    return service->DebugString();
  }
  if (const auto* message = pool_.FindMessageTypeByName(symbol)) {
    return message->DebugString();
  }
  if (const auto* method = pool_.FindMethodByName(symbol)) {
    return method->DebugString();
  }
  if (const auto* enum_type = pool_.FindEnumTypeByName(symbol)) {
    return enum_type->DebugString();
  }
  return absl::NotFoundError(absl::StrCat("no symbol ", symbol));
}

absl::StatusOr<ReflectionClient::CallResult> ReflectionClient::CallJson(
    const std::string& method, const std::string& request_json,
    absl::Duration timeout) {
  const std::vector<std::string> parts = absl::StrSplit(method, '/');
  if (parts.size() != 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("method: expected package.Service/Method, got ", method));
  }
  absl::StatusOr<const protobuf::ServiceDescriptor*> service =
      FindService(parts[0]);
  if (!service.ok()) return service.status();
  const protobuf::MethodDescriptor* descriptor =
      (*service)->FindMethodByName(parts[1]);
  if (descriptor == nullptr) {
    return absl::NotFoundError(
        absl::StrCat(parts[0], " has no method ", parts[1]));
  }

  std::unique_ptr<protobuf::Message> request(
      factory_.GetPrototype(descriptor->input_type())->New());
  const auto parsed =
      protobuf::util::JsonStringToMessage(request_json, request.get());
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("request JSON for ", method, ": ", parsed.ToString()));
  }
  CallResult result;
  std::vector<std::string> responses;
  GenericCall call(channel_, absl::StrCat("/", method), timeout);
  result.status = call.Run(request->SerializeAsString(), responses);

  const protobuf::Message* prototype =
      factory_.GetPrototype(descriptor->output_type());
  for (const std::string& bytes : responses) {
    std::unique_ptr<protobuf::Message> response(prototype->New());
    if (!response->ParseFromString(bytes)) {
      return absl::DataLossError(
          absl::StrCat("unparsable ", descriptor->output_type()->full_name()));
    }
    std::string json;
    const auto printed = protobuf::util::MessageToJsonString(*response, &json);
    if (!printed.ok()) {
      return absl::InternalError(absl::StrCat("to JSON: ", printed.ToString()));
    }
    result.responses_json.push_back(std::move(json));
  }
  return result;
}

}  // namespace bnmlp::testing
