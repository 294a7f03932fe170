// The channel a BnmlpClient talks over: plaintext or TLS (optionally with a
// client certificate, for servers that require one), and the bearer token
// sent as `authorization: Bearer TOKEN` metadata on every call, health
// checks included (the server ignores it there).
#ifndef BNMLP_CLIENT_CLIENT_CHANNEL_H_
#define BNMLP_CLIENT_CLIENT_CHANNEL_H_

#include <grpcpp/channel.h>
#include <grpcpp/support/channel_arguments.h>

#include <memory>
#include <string>

namespace bnmlp::client {

struct ChannelSecurity {
  // Verify the server with TLS. Off: plaintext.
  bool use_tls = false;
  // PEM CA certificate(s) the server's certificate must chain to; empty:
  // the system's trusted roots.
  std::string tls_root_certs;
  // PEM client certificate (chain) and its key, for servers that require
  // client certificates (mutual TLS); both or neither.
  std::string tls_cert_chain;
  std::string tls_private_key;
  // Sent with every call; empty: none. Over plaintext it is readable by
  // anyone on the path: use TLS beyond loopback.
  std::string bearer_token;
};

// A channel to `address` with `arguments` and `security`. Connects lazily.
std::shared_ptr<grpc::Channel> CreateClientChannel(
    const std::string& address, const ChannelSecurity& security,
    grpc::ChannelArguments arguments);

}  // namespace bnmlp::client

#endif  // BNMLP_CLIENT_CLIENT_CHANNEL_H_
