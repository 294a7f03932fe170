#include "interchange/onnx_graph.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/interchange/onnx_test_models.h"

namespace bnmlp {
namespace {

using ::bnmlp::testing::GraphBuilder;
using ::testing::HasSubstr;

constexpr int64_t kMax = int64_t{1} << 31;

// x [N, 2] -> Gemm(w [3, 2]) -> Relu.
GraphBuilder SmallGraph() {
  GraphBuilder g(2);
  onnx::NodeProto* gemm = g.Node(
      "Gemm", "gemm", {"x", g.Initializer("w", {3, 2}, {1, 2, 3, 4, 5, 6})});
  GraphBuilder::SetInt(gemm, "transB", 1);
  g.Node("Relu", "relu", {g.last()});
  return g;
}

absl::StatusOr<OnnxChain> Extract(GraphBuilder& g,
                                  const std::string& output = "",
                                  int64_t max_elements = kMax) {
  g.Finish(output);
  return ExtractChain(g.graph(), max_elements);
}

void ExpectInvalid(const absl::StatusOr<OnnxChain>& chain,
                   const std::string& message) {
  ASSERT_FALSE(chain.ok()) << "expected an error containing: " << message;
  EXPECT_EQ(chain.status().code(), absl::StatusCode::kInvalidArgument)
      << chain.status();
  EXPECT_THAT(chain.status().message(), HasSubstr(message));
}

TEST(ExtractChainTest, ReadsAStraightChain) {
  GraphBuilder g = SmallGraph();
  absl::StatusOr<OnnxChain> chain = Extract(g);
  ASSERT_TRUE(chain.ok()) << chain.status();
  EXPECT_EQ(chain->input_name, "x");
  EXPECT_EQ(chain->input_features, 2);
  EXPECT_EQ(chain->output_features, -1);
  ASSERT_EQ(chain->ops.size(), 2u);
  EXPECT_EQ(chain->ops[0].node->op_type(), "Gemm");
  EXPECT_EQ(chain->ops[0].data_input, 0);
  ASSERT_NE(chain->ops[0].constants[1], nullptr);
  EXPECT_EQ(chain->ops[0].constants[1]->dims, (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(chain->ops[1].label(), "node 1 'relu' (Relu)");
}

TEST(ExtractChainTest, SortsNodesListedOutOfOrderAndSkipsIdentity) {
  GraphBuilder g = SmallGraph();
  g.Node("Identity", "id", {g.last()});
  // Move the Relu (node 1) to the end: the graph is out of order but
  // acyclic.
  g.graph().mutable_node()->SwapElements(1, 2);
  absl::StatusOr<OnnxChain> chain = Extract(g, "id_out0");
  ASSERT_TRUE(chain.ok()) << chain.status();
  ASSERT_EQ(chain->ops.size(), 2u);
  EXPECT_EQ(chain->ops[1].node->op_type(), "Relu");
}

TEST(ExtractChainTest, InitializersListedAsInputsAreConstants) {
  // torch.onnx.export(..., keep_initializers_as_inputs=True).
  GraphBuilder g = SmallGraph();
  g.graph().add_input()->set_name("w");
  EXPECT_TRUE(Extract(g).ok());
}

TEST(ExtractChainTest, RefusesACycle) {
  GraphBuilder g(2);
  g.Node("Relu", "a", {"x"});
  g.Node("Add", "b", {"a_out0", "c_out0"});
  g.Node("Tanh", "c", {"b_out0"});
  ExpectInvalid(Extract(g, "c_out0"), "is on a cycle");
}

TEST(ExtractChainTest, RefusesANodeReadingItsOwnOutput) {
  GraphBuilder g(2);
  g.Node("Add", "self", {"x", "self_out0"});
  ExpectInvalid(Extract(g), "node 0 'self' (Add): is on a cycle");
}

TEST(ExtractChainTest, RefusesUndefinedAndDoublyDefinedValues) {
  GraphBuilder undefined = SmallGraph();
  undefined.Node("Add", "add", {undefined.last(), "nowhere"});
  ExpectInvalid(Extract(undefined), "reads 'nowhere', which no initializer");

  GraphBuilder twice = SmallGraph();
  twice.graph().mutable_node(1)->set_output(0, "w");
  ExpectInvalid(Extract(twice, "w"), "writes 'w', which is already defined");
}

TEST(ExtractChainTest, RefusesMissingInitializers) {
  // torch.onnx.export(..., export_params=False): weights are inputs.
  GraphBuilder g = SmallGraph();
  g.graph().clear_initializer();
  g.graph().add_input()->set_name("w");
  ExpectInvalid(Extract(g), "2 inputs without an initializer ('x', 'w')");
  ExpectInvalid(ExtractChain(g.graph(), kMax), "export_params=True");
}

TEST(ExtractChainTest, RefusesBranches) {
  GraphBuilder g = SmallGraph();
  g.Node("Tanh", "tanh", {"gemm_out0"});  // Relu already read it
  ExpectInvalid(Extract(g),
                "reads 'gemm_out0' where the chain is at "
                "'relu_out0'");
}

TEST(ExtractChainTest, RefusesNodesReadingTwoComputedValues) {
  GraphBuilder g = SmallGraph();
  g.Node("Add", "add", {"relu_out0", "gemm_out0"});
  ExpectInvalid(Extract(g), "reads two computed values");
}

TEST(ExtractChainTest, RefusesTrainingOutputs) {
  GraphBuilder g = SmallGraph();
  g.Node("BatchNormalization", "bn", {g.last(), "w", "w", "w", "w"},
         /*outputs=*/5);
  ExpectInvalid(Extract(g), "writes 5 values");
}

TEST(ExtractChainTest, RefusesOutputsThatAreNotTheChainsEnd) {
  GraphBuilder g = SmallGraph();
  ExpectInvalid(Extract(g, "gemm_out0"), "is not the end of the chain");
  GraphBuilder two = SmallGraph();
  two.graph().add_output()->set_name("x");
  ExpectInvalid(Extract(two), "the graph has 2 outputs");
  GraphBuilder nothing(2);
  ExpectInvalid(Extract(nothing, "x"), "computes nothing");
}

TEST(ExtractChainTest, RefusesOtherDomainsAndComputationsOnConstants) {
  GraphBuilder domain = SmallGraph();
  domain.graph().mutable_node(1)->set_domain("com.microsoft");
  ExpectInvalid(Extract(domain), "operator domain 'com.microsoft'");

  GraphBuilder mul(2);
  mul.Initializer("a", {2}, {1, 2});
  mul.Node("Mul", "mul", {"a", "a"});
  mul.Node("Add", "add", {"x", mul.last()});
  ExpectInvalid(Extract(mul), "node 0 'mul' (Mul): computes on constants only");
}

TEST(ExtractChainTest, RefusesBadInputDeclarations) {
  GraphBuilder g = SmallGraph();
  g.graph()
      .mutable_input(0)
      ->mutable_type()
      ->mutable_tensor_type()
      ->set_elem_type(onnx::TensorProto::DOUBLE);
  ExpectInvalid(Extract(g), "graph input 'x': expected element type FLOAT");

  GraphBuilder rank3 = SmallGraph();
  rank3.graph()
      .mutable_input(0)
      ->mutable_type()
      ->mutable_tensor_type()
      ->mutable_shape()
      ->add_dim()
      ->set_dim_value(4);
  ExpectInvalid(Extract(rank3), "expected shape [N, features], got 3");

  GraphBuilder negative = SmallGraph();
  negative.graph()
      .mutable_input(0)
      ->mutable_type()
      ->mutable_tensor_type()
      ->mutable_shape()
      ->mutable_dim(1)
      ->set_dim_value(-4);
  ExpectInvalid(Extract(negative), "dimensions must be >= 0");
}

TEST(ExtractChainTest, BoundsTheConstantsItMaterializes) {
  // Each Transpose copies: 40 of a 6-value matrix exceed 4 x 20 values.
  GraphBuilder g(2);
  g.Initializer("w", {3, 2}, {1, 2, 3, 4, 5, 6});
  std::string value = "w";
  for (int i = 0; i < 40; ++i) {
    onnx::NodeProto* t = g.Node("Transpose", absl::StrCat("t", i), {value});
    GraphBuilder::SetInts(t, "perm", {1, 0});
    value = g.last();
  }
  g.Node("MatMul", "mm", {"x", value});
  const absl::StatusOr<OnnxChain> chain = Extract(g, "", /*max_elements=*/20);
  EXPECT_EQ(chain.status().code(), absl::StatusCode::kResourceExhausted);
}

TEST(ExtractChainTest, RefusesTooManyNodes) {
  GraphBuilder g(2);
  for (int i = 0; i <= kMaxGraphNodes; ++i) {
    g.Node("Relu", absl::StrCat("r", i), {g.last()});
  }
  ExpectInvalid(Extract(g), "nodes; a bnmlp model has at most");
}

TEST(ExtractChainTest, UnusedInitializersAreNotRead) {
  GraphBuilder g = SmallGraph();
  onnx::TensorProto* unused = g.graph().add_initializer();
  unused->set_name("shape");
  unused->set_data_type(onnx::TensorProto::INT64);
  unused->add_dims(2);
  unused->add_int64_data(1);
  unused->add_int64_data(2);
  EXPECT_TRUE(Extract(g).ok());
}

TEST(NodeLabelTest, NamesIndexNameAndType) {
  onnx::NodeProto node;
  node.set_op_type("Gemm");
  EXPECT_EQ(NodeLabel(node, 3), "node 3 (Gemm)");
  node.set_name("/0/Gemm");
  EXPECT_EQ(NodeLabel(node, 3), "node 3 '/0/Gemm' (Gemm)");
  node.set_op_type("Bad Op\n");
  EXPECT_EQ(NodeLabel(node, 0), "node 0 '/0/Gemm' ('Bad Op\\n')");
}

}  // namespace
}  // namespace bnmlp
