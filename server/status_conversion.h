// The one place where absl::Status becomes grpc::Status.
#ifndef BNMLP_SERVER_STATUS_CONVERSION_H_
#define BNMLP_SERVER_STATUS_CONVERSION_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace bnmlp {

// Same code (the two enumerations agree value for value) and same message.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace bnmlp

#endif  // BNMLP_SERVER_STATUS_CONVERSION_H_
