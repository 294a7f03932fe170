#include "server/rpc_call.h"

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace bnmlp {
namespace {

class RecordingObserver : public RpcObserver {
 public:
  void OnFinished(const RpcOutcome& outcome) override {
    methods.emplace_back(outcome.method);
    codes.push_back(outcome.status.code());
    request_ids.emplace_back(outcome.request_id);
    callers.emplace_back(outcome.caller);
  }
  std::vector<std::string> methods;
  std::vector<absl::StatusCode> codes;
  std::vector<std::string> request_ids;
  std::vector<std::string> callers;
};

class OnlyPredict : public RpcAdmission {
 public:
  absl::Status Admit(const grpc::ServerContextBase&, absl::string_view method,
                     std::string* caller) const override {
    *caller = "tester";
    if (method == "Predict") return absl::OkStatus();
    return absl::PermissionDeniedError("only Predict");
  }
};

TEST(ServeCallTest, CountsTheCallWhileItsWorkRuns) {
  RpcEnvironment environment;
  grpc::ServerContext context;
  int seen = -1;
  const grpc::Status status =
      ServeCall(environment, context, "GetModel", "m", [&] {
        seen = environment.active_calls().count();
        return absl::OkStatus();
      });
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(seen, 1);
  EXPECT_EQ(environment.active_calls().count(), 0);
}

TEST(ServeCallTest, ConvertsTheWorksStatusAndTellsTheObservers) {
  RpcEnvironment environment;
  auto observer = std::make_shared<RecordingObserver>();
  environment.AddObserver(observer);
  grpc::ServerContext context;
  const grpc::Status status =
      ServeCall(environment, context, "Predict", "m",
                [] { return absl::NotFoundError("model 'm' not found"); });
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(), "model 'm' not found");
  ServeCall(environment, context, "ListModels", "",
            [] { return absl::OkStatus(); });
  ASSERT_EQ(observer->methods.size(), 2u);
  EXPECT_EQ(observer->methods[0], "Predict");
  EXPECT_EQ(observer->codes[0], absl::StatusCode::kNotFound);
  EXPECT_EQ(observer->codes[1], absl::StatusCode::kOk);
  // Every call has its own request id.
  EXPECT_NE(observer->request_ids[0], observer->request_ids[1]);
}

TEST(ServeCallTest, ARefusedCallNeverRunsItsWork) {
  RpcEnvironment environment;
  environment.SetAdmission(std::make_shared<OnlyPredict>());
  auto observer = std::make_shared<RecordingObserver>();
  environment.AddObserver(observer);
  grpc::ServerContext context;
  bool ran = false;
  const grpc::Status refused =
      ServeCall(environment, context, "DeleteModel", "m", [&] {
        ran = true;
        return absl::OkStatus();
      });
  EXPECT_FALSE(ran);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_EQ(observer->codes.size(), 1u);
  EXPECT_EQ(observer->codes[0], absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(observer->callers[0], "tester");
  EXPECT_TRUE(ServeCall(environment, context, "Predict", "m", [&] {
                ran = true;
                return absl::OkStatus();
              }).ok());
  EXPECT_TRUE(ran);
}

TEST(ServeCallTest, AHugeModelNameIsNotKept) {
  RpcEnvironment environment;
  grpc::ServerContext context;
  const std::string huge(1 << 20, 'x');
  EXPECT_TRUE(ServeCall(environment, context, "GetModel", huge, [] {
                return absl::OkStatus();
              }).ok());
}

}  // namespace
}  // namespace bnmlp
