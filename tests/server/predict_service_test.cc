// Predict on gRPC's callback API (server/predict_service.cc), through a
// real in-process server. Batching and concurrency are covered by
// predict_batcher_test.cc and concurrency_test.cc.
#include <memory>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/bnmlp_server.h"
#include "tests/server/server_test_util.h"

namespace bnmlp::testing {
namespace {

using ::testing::HasSubstr;

// Through a real server: a Predict's reservation (workspace and response)
// is held by its call object while gRPC sends the response and given back
// when the call ends, and a Predict that does not fit is refused with the
// figures.
TEST(PredictServiceTest, APredictsReservationIsGivenBackWhenTheCallEnds) {
  ServerOptions options = TestServerOptions();
  options.max_memory_bytes = int64_t{64} << 20;
  absl::StatusOr<std::unique_ptr<InProcessServer>> server =
      InProcessServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  v1::CreateModelRequest create;
  create.set_name("m");
  for (int size : {2, 8, 3}) create.add_layer_sizes(size);
  v1::ModelInfo info;
  ASSERT_TRUE(
      (*server)->stub().CreateModel(Context().get(), create, &info).ok());
  const MemoryBudget& memory = (*server)->server().memory();
  const int64_t idle = memory.used();

  v1::PredictRequest predict;
  predict.set_name("m");
  *predict.mutable_x() = MakeTensor({4, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  v1::PredictResponse response;
  ASSERT_TRUE(
      (*server)->stub().Predict(Context().get(), predict, &response).ok());
  // The server may still be finishing the call when the client has its
  // answer: wait (bounded) for the release.
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (memory.used() != idle && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_EQ(memory.used(), idle);

  // 2M rows: a response (and its serialized copy) of 64 MB, beyond the
  // budget: refused up front.
  v1::PredictRequest huge;
  huge.set_name("m");
  huge.mutable_x()->add_shape(2000000);
  huge.mutable_x()->add_shape(2);
  huge.mutable_x()->mutable_values()->Resize(4000000, 0.5f);
  const grpc::Status refused =
      (*server)->stub().Predict(Context().get(), huge, &response);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(refused.error_message(), HasSubstr("(--max_memory_bytes)"));
  EXPECT_EQ(memory.used(), idle);
}

}  // namespace
}  // namespace bnmlp::testing
