#include "client/rpc_error.h"

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bnmlp::client {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// What gRPC 1.51 says when nothing listens at the address.
constexpr char kRefused[] =
    "failed to connect to all addresses; last error: UNKNOWN: "
    "ipv4:127.0.0.1:1: Failed to connect to remote host: Connection refused";

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

TEST(RpcErrorTest, FailedConnectSaysTheServerIsUnreachable) {
  const absl::Status status =
      FromGrpcStatus(grpc::Status(grpc::StatusCode::UNAVAILABLE, kRefused),
                     "ListModels", "localhost:7");
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(status.message(),
            absl::StrCat("ListModels: the server at localhost:7 is "
                         "unreachable (UNAVAILABLE: ",
                         kRefused, ")"));
}

TEST(RpcErrorTest, UnavailableSentByTheServerIsNotCalledUnreachable) {
  const char* message =
      "the server is shutting down: training cancelled in epoch 2 at batch 7 "
      "of 469; the model keeps version 2";
  const absl::Status status = FromGrpcStatus(
      grpc::Status(grpc::StatusCode::UNAVAILABLE, message), "Train", "h:1");
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(status.message(),
            absl::StrCat("Train: the server at h:1 is unavailable "
                         "(UNAVAILABLE: ",
                         message, ")"));
  EXPECT_THAT(status.message(), Not(HasSubstr("unreachable")));
}

TEST(RpcErrorTest, BrokenConnectionSaysItWasLost) {
  const absl::Status status = FromGrpcStatus(
      grpc::Status(grpc::StatusCode::UNAVAILABLE, "Socket closed"), "Train",
      "h:1");
  EXPECT_EQ(status.message(),
            "Train: the connection to the server at h:1 was lost "
            "(UNAVAILABLE: Socket closed)");
}

TEST(RpcErrorTest, ClassifiesGrpcsWordings) {
  EXPECT_EQ(ClassifyUnavailable(kRefused), Unavailability::kUnreachable);
  EXPECT_EQ(ClassifyUnavailable(
                "DNS resolution failed for nonexistent.invalid:5: C-ares "
                "status is not ARES_SUCCESS"),
            Unavailability::kUnreachable);
  EXPECT_EQ(ClassifyUnavailable("connections to all backends failing; last "
                                "error: UNKNOWN: ..."),
            Unavailability::kUnreachable);
  EXPECT_EQ(ClassifyUnavailable("Connection reset by peer"),
            Unavailability::kConnectionLost);
  EXPECT_EQ(ClassifyUnavailable("the server is shutting down"),
            Unavailability::kSentByServer);
  EXPECT_EQ(ClassifyUnavailable(""), Unavailability::kSentByServer);
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
