#include "client/rpc_error.h"

#include "gtest/gtest.h"

namespace bnmlp::client {
namespace {

TEST(RpcErrorTest, OkStaysOk) {
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK, "Predict", "h:1").ok());
}

TEST(RpcErrorTest, KeepsTheCodeAndNamesRpcCodeAndServerMessage) {
  const absl::Status status = FromGrpcStatus(
      grpc::Status(grpc::StatusCode::NOT_FOUND, "name: no model 'x'"),
      "GetModel", "h:1");
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(status.message(), "GetModel: NOT_FOUND: name: no model 'x'");
}

TEST(RpcErrorTest, UnavailableSaysTheServerIsUnreachable) {
  const absl::Status status = FromGrpcStatus(
      grpc::Status(grpc::StatusCode::UNAVAILABLE, "connection refused"),
      "ListModels", "localhost:7");
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(status.message(),
            "ListModels: the server at localhost:7 is unreachable "
            "(UNAVAILABLE: connection refused)");
}

TEST(RpcErrorTest, DeadlineSaysTheServerDidNotAnswer) {
  const absl::Status status = FromGrpcStatus(
      grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "Deadline Exceeded"),
      "Predict", "h:1");
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(status.message(),
            "Predict: the server at h:1 did not answer before the deadline "
            "(DEADLINE_EXCEEDED: Deadline Exceeded)");
}

TEST(RpcErrorTest, EmptyServerMessageIsSaidSo) {
  EXPECT_EQ(FromGrpcStatus(grpc::Status(grpc::StatusCode::INTERNAL, ""),
                           "Train", "h:1")
                .message(),
            "Train: INTERNAL: (no message)");
}

}  // namespace
}  // namespace bnmlp::client
