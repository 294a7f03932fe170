#include "client/client_channel.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/client_interceptor.h>

#include <utility>
#include <vector>

namespace bnmlp::client {
namespace {

// Adds the authorization metadata to each call before its headers leave.
// An interceptor rather than call credentials, which gRPC sends only over
// TLS: a token must also reach a plaintext loopback server (or a proxy that
// terminates TLS in front of one).
class BearerTokenInterceptor : public grpc::experimental::Interceptor {
 public:
  explicit BearerTokenInterceptor(const std::string* header_value)
      : header_value_(header_value) {}

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::
                PRE_SEND_INITIAL_METADATA)) {
      methods->GetSendInitialMetadata()->emplace("authorization",
                                                 *header_value_);
    }
    methods->Proceed();
  }

 private:
  const std::string* header_value_;
};

class BearerTokenInterceptorFactory
    : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  explicit BearerTokenInterceptorFactory(const std::string& token)
      : header_value_("Bearer " + token) {}

  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo* /*info*/) override {
    // gRPC takes ownership of the interceptor; the factory (owned by the
    // channel) outlives every call, and with it the header value.
    return new BearerTokenInterceptor(&header_value_);
  }

 private:
  const std::string header_value_;
};

std::shared_ptr<grpc::ChannelCredentials> CredentialsFor(
    const ChannelSecurity& security) {
  if (!security.use_tls) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = security.tls_root_certs;
  ssl.pem_cert_chain = security.tls_cert_chain;
  ssl.pem_private_key = security.tls_private_key;
  return grpc::SslCredentials(ssl);
}

}  // namespace

std::shared_ptr<grpc::Channel> CreateClientChannel(
    const std::string& address, const ChannelSecurity& security,
    grpc::ChannelArguments arguments) {
  std::vector<
      std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>>
      interceptors;
  if (!security.bearer_token.empty()) {
    interceptors.push_back(
        std::make_unique<BearerTokenInterceptorFactory>(security.bearer_token));
  }
  return grpc::experimental::CreateCustomChannelWithInterceptors(
      address, CredentialsFor(security), arguments, std::move(interceptors));
}

}  // namespace bnmlp::client
