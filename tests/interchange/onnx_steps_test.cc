#include "interchange/onnx_steps.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/interchange/onnx_test_models.h"

namespace bnmlp {
namespace {

using ::bnmlp::testing::GraphBuilder;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int64_t kMax = int64_t{1} << 31;

// Keeps the graph alive while its steps are read.
struct Read {
  explicit Read(int64_t features) : graph(features) {}
  GraphBuilder graph;
  absl::StatusOr<std::vector<Step>> steps = absl::UnknownError("not read");
};

void ReadInto(Read& read) {
  read.graph.Finish();
  absl::StatusOr<OnnxChain> chain = ExtractChain(read.graph.graph(), kMax);
  if (!chain.ok()) {
    read.steps = chain.status();
    return;
  }
  read.steps = ReadSteps(*chain);
}

onnx::NodeProto* AddGemm(GraphBuilder& g, const std::string& name, int64_t out,
                         int64_t in) {
  onnx::NodeProto* gemm =
      g.Node("Gemm", name,
             {g.last(), g.Initializer(name + ".w", {out, in},
                                      std::vector<float>(out * in, 0.5f))});
  GraphBuilder::SetInt(gemm, "transB", 1);
  return gemm;
}

void AddBatchNorm(GraphBuilder& g, const std::string& name, int64_t width,
                  float var = 1.0f) {
  const std::vector<float> ones(width, 1.0f), vars(width, var);
  g.Node("BatchNormalization", name,
         {g.last(), g.Initializer(name + ".s", {width}, ones),
          g.Initializer(name + ".b", {width}, ones),
          g.Initializer(name + ".m", {width}, ones),
          g.Initializer(name + ".v", {width}, vars)});
}

void ExpectInvalid(Read& read, const std::string& message) {
  ReadInto(read);
  ASSERT_FALSE(read.steps.ok()) << "expected an error containing " << message;
  EXPECT_EQ(read.steps.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(read.steps.status().message(), HasSubstr(message));
}

TEST(ReadStepsTest, ReadsEachOperation) {
  Read read(2);
  GraphBuilder& g = read.graph;
  onnx::NodeProto* gemm = AddGemm(g, "g0", 3, 2);
  g.Initializer("c", {1, 3}, {1, 2, 3});
  gemm->add_input("c");
  GraphBuilder::SetFloat(gemm, "beta", 2.0f);
  AddBatchNorm(g, "bn", 3);
  g.Node("Sigmoid", "sig", {g.last()});
  AddGemm(g, "g1", 2, 3);
  g.Node("Softmax", "sm", {g.last()});
  ReadInto(read);
  ASSERT_TRUE(read.steps.ok()) << read.steps.status();
  const std::vector<Step>& steps = *read.steps;
  ASSERT_EQ(steps.size(), 5u);
  EXPECT_EQ(steps[0].kind, StepKind::kProduct);
  EXPECT_EQ(steps[0].out, 3);
  EXPECT_EQ(steps[0].in, 2);
  EXPECT_THAT(steps[0].bias, ElementsAre(2, 4, 6));
  EXPECT_EQ(steps[1].kind, StepKind::kBatchNorm);
  EXPECT_FLOAT_EQ(steps[1].epsilon, 1e-5f);
  EXPECT_FLOAT_EQ(steps[1].momentum, 0.9f);
  EXPECT_EQ(steps[2].activation, Activation::kSigmoid);
  EXPECT_TRUE(steps[3].bias.empty());
  EXPECT_EQ(steps[4].kind, StepKind::kSoftmax);
}

TEST(ReadStepsTest, RefusesWidthsThatDisagree) {
  Read read(2);
  AddGemm(read.graph, "g0", 5, 2);
  AddGemm(read.graph, "g1", 3, 6);
  ExpectInvalid(read,
                "node 1 'g1' (Gemm): the weight takes 6 features, but the "
                "values reaching it have 5");
}

TEST(ReadStepsTest, RefusesAnInputWidthTheWeightsDoNotTake) {
  Read read(4);
  AddGemm(read.graph, "g0", 5, 3);
  ExpectInvalid(read, "takes 3 features, but the values reaching it have 4");
}

TEST(ReadStepsTest, RefusesADeclaredOutputWidthTheGraphDoesNotProduce) {
  Read read(2);
  AddGemm(read.graph, "g0", 5, 2);
  read.graph.Finish();
  auto* dim = read.graph.graph()
                  .mutable_output(0)
                  ->mutable_type()
                  ->mutable_tensor_type()
                  ->mutable_shape()
                  ->mutable_dim(1);
  dim->set_dim_value(4);
  absl::StatusOr<OnnxChain> chain = ExtractChain(read.graph.graph(), kMax);
  ASSERT_TRUE(chain.ok()) << chain.status();
  EXPECT_THAT(ReadSteps(*chain).status().message(),
              HasSubstr("output declares 4 features, but the operations "
                        "produce 5"));
}

TEST(ReadStepsTest, RefusesUnsupportedOperationsWithAHint) {
  for (const auto& [op, message] :
       std::vector<std::pair<std::string, std::string>>{
           {"LeakyRelu", "expected one of Gemm, MatMul"},
           {"Dropout", "model.eval()"},
           {"LogSoftmax", "end in Softmax"}}) {
    Read read(2);
    AddGemm(read.graph, "g0", 3, 2);
    read.graph.Node(op, "op", {read.graph.last()});
    ExpectInvalid(read, "node 1 'op' (" + op + "): not an operation");
    EXPECT_THAT(read.steps.status().message(), HasSubstr(message)) << op;
  }
}

TEST(ReadStepsTest, RefusesUnsupportedAttributesAndModes) {
  Read trans_a(2);
  GraphBuilder::SetInt(AddGemm(trans_a.graph, "g0", 3, 2), "transA", 1);
  ExpectInvalid(trans_a, "transA must be 0");

  Read unknown(2);
  GraphBuilder::SetInt(AddGemm(unknown.graph, "g0", 3, 2), "fancy", 1);
  ExpectInvalid(unknown, "unsupported attribute 'fancy'");

  Read training(2);
  AddGemm(training.graph, "g0", 3, 2);
  AddBatchNorm(training.graph, "bn", 3);
  GraphBuilder::SetInt(training.graph.graph().mutable_node(1), "training_mode",
                       1);
  ExpectInvalid(training, "training_mode must be 0");

  Read axis(2);
  AddGemm(axis.graph, "g0", 3, 2);
  GraphBuilder::SetInt(axis.graph.Node("Softmax", "sm", {axis.graph.last()}),
                       "axis", 0);
  ExpectInvalid(axis, "axis must be 1 or -1");
}

TEST(ReadStepsTest, RefusesBadBatchNormParameters) {
  Read size(2);
  AddGemm(size.graph, "g0", 3, 2);
  AddBatchNorm(size.graph, "bn", 4);
  ExpectInvalid(size, "scale: expected shape [3], got [4]");

  Read negative(2);
  AddGemm(negative.graph, "g0", 3, 2);
  AddBatchNorm(negative.graph, "bn", 3, /*var=*/-1.0f);
  ExpectInvalid(negative, "input_var must be >= 0");
}

TEST(ReadStepsTest, AddIsOnlyABias) {
  Read read(2);
  read.graph.Node("Add", "add",
                  {"x", read.graph.Initializer("c", {2}, {1, 2})});
  ExpectInvalid(read, "not the bias of a product");
}

TEST(ReadStepsTest, MatMulTakesTheDataFirst) {
  Read read(2);
  read.graph.Node(
      "MatMul", "mm",
      {read.graph.Initializer("w", {3, 2}, std::vector<float>(6)), "x"});
  ExpectInvalid(read, "expected the computed value as input 0");
}

}  // namespace
}  // namespace bnmlp
