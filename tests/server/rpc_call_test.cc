#include "server/rpc_call.h"

#include "gtest/gtest.h"

namespace bnmlp {
namespace {

TEST(ServeCallTest, CountsTheCallWhileItsWorkRuns) {
  ActiveCalls calls;
  int seen = -1;
  const grpc::Status status = ServeCall(calls, "GetModel", "m", [&] {
    seen = calls.count();
    return absl::OkStatus();
  });
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(seen, 1);
  EXPECT_EQ(calls.count(), 0);
}

TEST(ServeCallTest, ConvertsTheWorksStatusForGrpc) {
  ActiveCalls calls;
  const grpc::Status status = ServeCall(calls, "Predict", "m", [] {
    return absl::NotFoundError("model 'm' not found");
  });
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(), "model 'm' not found");
}

TEST(ServeCallTest, AHugeModelNameIsNotKept) {
  ActiveCalls calls;
  const std::string huge(1 << 20, 'x');
  EXPECT_TRUE(
      ServeCall(calls, "GetModel", huge, [] { return absl::OkStatus(); }).ok());
}

}  // namespace
}  // namespace bnmlp
