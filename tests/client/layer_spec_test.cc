#include "client/cli/layer_spec.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bnmlp::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(LayerSpecTest, AcceptsDashesAndCommas) {
  EXPECT_THAT(*ParseLayerSizes("784-256-128-10"),
              ElementsAre(784, 256, 128, 10));
  EXPECT_THAT(*ParseLayerSizes("4, 8 ,3"), ElementsAre(4, 8, 3));
  EXPECT_THAT(*ParseLayerSizes("2-2"), ElementsAre(2, 2));
}

TEST(LayerSpecTest, RejectsBadSpecsNamingTheEntry) {
  const struct {
    const char* spec;
    const char* message;
  } cases[] = {
      {"", "expected at least two positive sizes"},
      {"784", "expected at least two positive sizes"},
      {"784--10", "entry 2 ('') is not a positive integer"},
      {"784-0-10", "entry 2 ('0') is not a positive integer"},
      {"784-x-10", "entry 2 ('x') is not a positive integer"},
      {"784,256-10", "entry 2 ('256-10') is not a positive integer"},
      {"784-2.5", "entry 2 ('2.5')"},
  };
  for (const auto& c : cases) {
    absl::StatusOr<std::vector<int64_t>> sizes = ParseLayerSizes(c.spec);
    EXPECT_EQ(sizes.status().code(), absl::StatusCode::kInvalidArgument)
        << c.spec;
    EXPECT_THAT(sizes.status().message(), HasSubstr("--layers="));
    EXPECT_THAT(sizes.status().message(), HasSubstr(c.message)) << c.spec;
  }
}

}  // namespace
}  // namespace bnmlp::cli
