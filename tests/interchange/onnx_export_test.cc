#include "interchange/onnx_export.h"

#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "interchange/onnx_import.h"
#include "onnx/checker.h"
#include "onnx/onnx_pb.h"
#include "onnx/shape_inference/implementation.h"
#include "tests/interchange/onnx_test_models.h"

namespace bnmlp {
namespace {

using ::bnmlp::testing::MakeConfig;
using ::bnmlp::testing::MaxAbsDiff;
using ::bnmlp::testing::PredictOrDie;
using ::bnmlp::testing::RandomInputs;
using ::bnmlp::testing::RandomizedModel;
using ::testing::Contains;
using ::testing::HasSubstr;

std::string Name(const ModelConfig& c, bool fold) {
  return absl::StrCat(TaskName(c.task), "/", NormalizationName(c.normalization),
                      "/", ActivationName(c.activation),
                      fold ? "/folded" : "/unfolded");
}

std::map<std::string, int> CountOps(const onnx::ModelProto& proto) {
  std::map<std::string, int> counts;
  for (const onnx::NodeProto& node : proto.graph().node()) {
    ++counts[node.op_type()];
  }
  return counts;
}

// ONNX's checker (with strict shape inference) passes every combination,
// the output's inferred shape is [N, outputs], and the file imports back as
// a model predicting the same.
TEST(ExportOnnxTest, EveryCombinationPassesTheCheckerAndRoundTrips) {
  for (Task task : testing::kTasks) {
    for (Normalization norm : testing::kNormalizations) {
      for (Activation act : testing::kActivations) {
        for (bool fold : {false, true}) {
          const ModelConfig config = MakeConfig({6, 8, 5, 3}, task, norm, act);
          const std::string name = Name(config, fold);
          const Model<float> model = RandomizedModel(config, 21);
          absl::StatusOr<std::string> file =
              ExportOnnx(model, {fold, "combo", 4});
          ASSERT_TRUE(file.ok()) << name << ": " << file.status();
          onnx::ModelProto proto;
          ASSERT_TRUE(proto.ParseFromString(*file)) << name;
          try {
            onnx::checker::check_model(proto);
            const onnx::ShapeInferenceOptions options(/*check_type_val=*/true,
                                                      /*strict_mode_val=*/1);
            onnx::shape_inference::InferShapes(
                proto, onnx::OpSchemaRegistry::Instance(), options);
          } catch (const std::exception& e) {
            FAIL() << name << ": " << e.what();
          }
          bool found_y = false;
          for (const onnx::ValueInfoProto& v : proto.graph().output()) {
            ASSERT_EQ(v.name(), "y");
            const auto& shape = v.type().tensor_type().shape();
            ASSERT_EQ(shape.dim_size(), 2) << name;
            EXPECT_EQ(shape.dim(0).dim_param(), "N") << name;
            EXPECT_EQ(shape.dim(1).dim_value(), 3) << name;
            found_y = true;
          }
          EXPECT_TRUE(found_y);
          const std::map<std::string, int> ops = CountOps(proto);
          const bool has_bn = norm != Normalization::kNone && !fold;
          EXPECT_EQ(ops.count("BatchNormalization")
                        ? ops.at("BatchNormalization")
                        : 0,
                    has_bn ? 2 : 0)
              << name;
          EXPECT_EQ(ops.at("Gemm"), 3) << name;
          EXPECT_EQ(ops.count("Softmax"),
                    task == Task::kClassification ? 1u : 0u)
              << name;
          absl::StatusOr<Model<float>> back = ImportOnnx(*file, {});
          ASSERT_TRUE(back.ok()) << name << ": " << back.status();
          const Matrix<float> x = RandomInputs(6, 32, 3);
          EXPECT_LE(MaxAbsDiff(PredictOrDie(*back, x), PredictOrDie(model, x)),
                    1e-5)
              << name;
        }
      }
    }
  }
}

TEST(ExportOnnxTest, RecordsTheModelInMetadataAndDocString) {
  ModelConfig config =
      MakeConfig({4, 3, 2}, Task::kRegression, Normalization::kPostActivation,
                 Activation::kSigmoid);
  config.batch_norm_momentum = 0.25;
  config.batch_norm_epsilon = 1e-3;
  const Model<float> model = RandomizedModel(config, 1);
  onnx::ModelProto proto;
  ASSERT_TRUE(proto.ParseFromString(*ExportOnnx(model, {true, "iris", 12})));
  std::map<std::string, std::string> meta;
  for (const auto& entry : proto.metadata_props()) {
    meta[entry.key()] = entry.value();
  }
  EXPECT_EQ(meta["bnmlp.model_name"], "iris");
  EXPECT_EQ(meta["bnmlp.model_version"], "12");
  EXPECT_EQ(meta["bnmlp.layer_sizes"], "4,3,2");
  EXPECT_EQ(meta["bnmlp.task"], "regression");
  EXPECT_EQ(meta["bnmlp.normalization"], "post_activation");
  EXPECT_EQ(meta["bnmlp.activation"], "sigmoid");
  EXPECT_EQ(meta["bnmlp.batch_norm_momentum"], "0.25");
  EXPECT_EQ(meta["bnmlp.batch_norm_epsilon"], "0.001");
  EXPECT_EQ(meta["bnmlp.batch_norm_folded"], "true");
  EXPECT_FALSE(meta["bnmlp.version"].empty());
  EXPECT_FALSE(meta["bnmlp.git_commit"].empty());
  EXPECT_EQ(proto.model_version(), 12);
  EXPECT_EQ(proto.producer_name(), "bnmlp");
  EXPECT_EQ(proto.ir_version(), kOnnxExportIrVersion);
  EXPECT_EQ(proto.opset_import(0).version(), kOnnxExportOpset);
  EXPECT_THAT(proto.doc_string(), HasSubstr("'iris' version 12"));
  EXPECT_THAT(proto.doc_string(), HasSubstr("layers 4-3-2"));
}

TEST(ExportOnnxTest, BatchNormAttributesCarryEpsilonAndMomentum) {
  ModelConfig config =
      MakeConfig({2, 3, 2}, Task::kClassification,
                 Normalization::kPreActivation, Activation::kRelu);
  config.batch_norm_momentum = 0.3;
  config.batch_norm_epsilon = 1e-4;
  onnx::ModelProto proto;
  ASSERT_TRUE(
      proto.ParseFromString(*ExportOnnx(RandomizedModel(config, 1), {})));
  std::vector<std::string> ops;
  for (const onnx::NodeProto& node : proto.graph().node()) {
    ops.push_back(node.op_type());
    if (node.op_type() != "BatchNormalization") continue;
    for (const onnx::AttributeProto& a : node.attribute()) {
      if (a.name() == "epsilon") {
        EXPECT_FLOAT_EQ(a.f(), 1e-4f);
      }
      if (a.name() == "momentum") {
        EXPECT_FLOAT_EQ(a.f(), 0.7f);
      }
    }
  }
  EXPECT_EQ(ops, (std::vector<std::string>{"Gemm", "BatchNormalization", "Relu",
                                           "Gemm", "Softmax"}));
  // Pre-activation products have no bias: the Gemm has two inputs.
  EXPECT_EQ(proto.graph().node(0).input_size(), 2);
  EXPECT_THAT(ops, Contains("Softmax"));
}

}  // namespace
}  // namespace bnmlp
