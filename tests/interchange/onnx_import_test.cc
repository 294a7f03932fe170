#include "interchange/onnx_import.h"

#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "interchange/onnx_export.h"
#include "tests/interchange/onnx_test_models.h"

namespace bnmlp {
namespace {

using ::bnmlp::testing::GraphBuilder;
using ::bnmlp::testing::MakeConfig;
using ::bnmlp::testing::MaxAbsDiff;
using ::bnmlp::testing::PredictOrDie;
using ::bnmlp::testing::RandomInputs;
using ::bnmlp::testing::RandomizedModel;
using ::bnmlp::testing::TorchStyleGraph;
using ::testing::HasSubstr;

std::string Name(const ModelConfig& c) {
  return absl::StrCat(TaskName(c.task), "/", NormalizationName(c.normalization),
                      "/", ActivationName(c.activation));
}

// The PyTorch-style graph of every combination imports as the same model.
TEST(ImportOnnxTest, TorchStyleGraphsImportExactly) {
  for (Task task : testing::kTasks) {
    for (Normalization norm : testing::kNormalizations) {
      for (Activation act : testing::kActivations) {
        const ModelConfig config = MakeConfig({5, 7, 6, 3}, task, norm, act);
        const Model<float> model = RandomizedModel(config, 3);
        absl::StatusOr<Model<float>> imported =
            ImportOnnx(TorchStyleGraph(model), {});
        ASSERT_TRUE(imported.ok()) << Name(config) << ": " << imported.status();
        const ModelConfig& got = imported->config();
        EXPECT_EQ(got.layer_sizes, config.layer_sizes) << Name(config);
        EXPECT_EQ(got.task, task) << Name(config);
        EXPECT_EQ(got.activation, act) << Name(config);
        EXPECT_EQ(got.normalization, norm) << Name(config);
        EXPECT_EQ(got.batch_norm_epsilon, 1e-5) << Name(config);
        EXPECT_EQ(got.batch_norm_momentum, 0.1) << Name(config);
        const Matrix<float> x = RandomInputs(5, 9, 1);
        EXPECT_LE(
            MaxAbsDiff(PredictOrDie(*imported, x), PredictOrDie(model, x)),
            1e-6)
            << Name(config);
      }
    }
  }
}

TEST(ImportOnnxTest, BnmlpExportsRoundTrip) {
  for (bool fold : {false, true}) {
    for (Normalization norm : testing::kNormalizations) {
      const ModelConfig config = MakeConfig({4, 6, 5, 2}, Task::kClassification,
                                            norm, Activation::kTanh);
      const Model<float> model = RandomizedModel(config, 5);
      absl::StatusOr<std::string> file = ExportOnnx(model, {fold, "m", 3});
      ASSERT_TRUE(file.ok()) << file.status();
      absl::StatusOr<Model<float>> imported = ImportOnnx(*file, {});
      ASSERT_TRUE(imported.ok()) << imported.status();
      // Folded files carry no BatchNorm: they import as plain MLPs.
      EXPECT_EQ(imported->config().normalization,
                fold ? Normalization::kNone : norm);
      const Matrix<float> x = RandomInputs(4, 16, 2);
      EXPECT_LE(MaxAbsDiff(PredictOrDie(*imported, x), PredictOrDie(model, x)),
                fold ? 1e-5 : 1e-6)
          << Name(config) << " fold=" << fold;
      if (!fold) {
        for (int l = 0; l < model.num_layers(); ++l) {
          EXPECT_EQ(imported->layer(l).weight, model.layer(l).weight);
          EXPECT_EQ(imported->layer(l).running_var, model.layer(l).running_var);
        }
      }
    }
  }
}

// A pre-activation Linear with a bias (nn.Linear's default): BatchNorm
// cancels the bias, which moves into the running mean.
TEST(ImportOnnxTest, PreActivationBiasMovesIntoTheRunningMean) {
  const ModelConfig with_bias =
      MakeConfig({3, 4, 2}, Task::kRegression, Normalization::kPostActivation,
                 Activation::kRelu);
  Model<float> reference = RandomizedModel(with_bias, 9);
  // The same parameters in a pre-activation arrangement: Gemm(+b) -> BN ->
  // ReLU, written by hand.
  const LayerParameters<float>& p = reference.layer(0);
  GraphBuilder g(3);
  onnx::NodeProto* gemm =
      g.Node("Gemm", "gemm0",
             {"x", g.Initializer("w0", p.weight), g.Initializer("b0", p.bias)});
  GraphBuilder::SetInt(gemm, "transB", 1);
  g.Node(
      "BatchNormalization", "bn0",
      {g.last(), g.Initializer("g", p.gamma), g.Initializer("be", p.beta),
       g.Initializer("m", p.running_mean), g.Initializer("v", p.running_var)});
  g.Node("Relu", "relu0", {g.last()});
  const LayerParameters<float>& o = reference.layer(1);
  onnx::NodeProto* out = g.Node(
      "Gemm", "gemm1",
      {g.last(), g.Initializer("w1", o.weight), g.Initializer("b1", o.bias)});
  GraphBuilder::SetInt(out, "transB", 1);
  absl::StatusOr<Model<float>> imported = ImportOnnx(g.Finish(), {});
  ASSERT_TRUE(imported.ok()) << imported.status();
  EXPECT_EQ(imported->config().normalization, Normalization::kPreActivation);
  EXPECT_FALSE(imported->layer(0).has_bias());
  // Expected: relu(gamma (W x + b - mean) / sqrt(var + eps) + beta).
  const Matrix<float> x = RandomInputs(3, 5, 4);
  Matrix<float> z = (p.weight * x).colwise() + (p.bias - p.running_mean);
  const Vector<float> inv =
      (p.running_var.array() + 1e-5f).rsqrt().matrix().cwiseProduct(p.gamma);
  z = (inv.asDiagonal() * z).colwise() + p.beta;
  const Matrix<float> expected =
      (o.weight * z.cwiseMax(0.0f)).colwise() + o.bias;
  EXPECT_LE(MaxAbsDiff(PredictOrDie(*imported, x), expected), 1e-5);
}

TEST(ImportOnnxTest, GemmAlphaBetaAndMatMulAddFold) {
  const RowMajorMatrix<float> w = RowMajorMatrix<float>::Random(3, 2);
  const Vector<float> b = Vector<float>::Random(3);
  GraphBuilder g(2);
  // [in, out] weight, no transB, alpha 2, beta 0.5.
  const RowMajorMatrix<float> wt = w.transpose();
  onnx::NodeProto* gemm = g.Node(
      "Gemm", "gemm", {"x", g.Initializer("wt", wt), g.Initializer("b", b)});
  GraphBuilder::SetFloat(gemm, "alpha", 2.0f);
  GraphBuilder::SetFloat(gemm, "beta", 0.5f);
  g.Node("Tanh", "tanh", {g.last()});
  const RowMajorMatrix<float> w2 = RowMajorMatrix<float>::Random(2, 3);
  const Vector<float> b2 = Vector<float>::Random(2);
  const RowMajorMatrix<float> w2t = w2.transpose();
  g.Node("MatMul", "matmul", {g.last(), g.Initializer("w2t", w2t)});
  g.Node("Add", "add", {g.Initializer("b2", b2), g.last()});
  absl::StatusOr<Model<float>> imported = ImportOnnx(g.Finish(), {});
  ASSERT_TRUE(imported.ok()) << imported.status();
  EXPECT_EQ(imported->config().task, Task::kRegression);
  EXPECT_EQ(imported->config().normalization, Normalization::kNone);
  EXPECT_EQ(imported->config().activation, Activation::kTanh);
  const Matrix<float> x = RandomInputs(2, 4, 8);
  const Matrix<float> h =
      (((2.0f * w) * x).colwise() + 0.5f * b).array().tanh();
  const Matrix<float> expected = (w2 * h).colwise() + b2;
  EXPECT_LE(MaxAbsDiff(PredictOrDie(*imported, x), expected), 1e-6);
}

TEST(ImportOnnxTest, TransposeAndConstantNodesFold) {
  const RowMajorMatrix<float> w = RowMajorMatrix<float>::Random(2, 3);
  GraphBuilder g(3);
  onnx::NodeProto* constant = g.Node("Constant", "c", {});
  onnx::AttributeProto* value = constant->add_attribute();
  value->set_name("value");
  value->set_type(onnx::AttributeProto::TENSOR);
  onnx::TensorProto* t = value->mutable_t();
  t->set_data_type(onnx::TensorProto::FLOAT);
  t->add_dims(2);
  t->add_dims(3);
  for (int i = 0; i < 6; ++i) t->add_float_data(w.data()[i]);
  onnx::NodeProto* transpose = g.Node("Transpose", "t", {g.last()});
  GraphBuilder::SetInts(transpose, "perm", {1, 0});
  g.Node("MatMul", "mm", {"x", g.last()});
  g.Node("Softmax", "sm", {g.last()});
  absl::StatusOr<Model<float>> imported = ImportOnnx(g.Finish(), {});
  ASSERT_TRUE(imported.ok()) << imported.status();
  EXPECT_EQ(imported->config().task, Task::kClassification);
  EXPECT_EQ(imported->layer(0).weight, w);
  EXPECT_EQ(imported->layer(0).bias, Vector<float>::Zero(2));
}

// torch.onnx.export's default opset (14) writes training_mode=0 on
// BatchNormalization; opset 11 files have Softmax's old default axis.
TEST(ImportOnnxTest, OtherOpsetsPyTorchWrites) {
  for (int64_t opset : {11, 14, 17}) {
    const RowMajorMatrix<float> w = RowMajorMatrix<float>::Random(3, 2);
    const RowMajorMatrix<float> wt = w.transpose();
    GraphBuilder g(2, opset);
    g.Node("MatMul", "mm", {"x", g.Initializer("wt", wt)});
    onnx::NodeProto* bn = g.Node(
        "BatchNormalization", "bn",
        {g.last(),
         g.Initializer("s", Vector<float>(Vector<float>::Constant(3, 2.0f))),
         g.Initializer("b", Vector<float>(Vector<float>::Zero(3))),
         g.Initializer("m", Vector<float>(Vector<float>::Zero(3))),
         g.Initializer("v", Vector<float>(Vector<float>::Ones(3)))});
    if (opset >= 14) GraphBuilder::SetInt(bn, "training_mode", 0);
    g.Node("Relu", "relu", {g.last()});
    const RowMajorMatrix<float> w2 = RowMajorMatrix<float>::Random(2, 3);
    onnx::NodeProto* gemm =
        g.Node("Gemm", "out",
               {g.last(), g.Initializer("w2", w2),
                g.Initializer("b2", Vector<float>(Vector<float>::Zero(2)))});
    GraphBuilder::SetInt(gemm, "transB", 1);
    g.Node("Softmax", "sm", {g.last()});
    absl::StatusOr<Model<float>> imported = ImportOnnx(g.Finish(), {});
    ASSERT_TRUE(imported.ok())
        << "opset " << opset << ": " << imported.status();
    EXPECT_EQ(imported->config().normalization, Normalization::kPreActivation);
    EXPECT_EQ(imported->config().task, Task::kClassification);
  }
}

// Any prefix of a valid file is refused or (cut inside the trailing
// metadata) imports the same model; never a crash.
TEST(ImportOnnxTest, TruncatedFilesNeverCrash) {
  const Model<float> model = RandomizedModel(
      MakeConfig({3, 4, 2}, Task::kClassification,
                 Normalization::kPreActivation, Activation::kRelu),
      1);
  const std::string file = *ExportOnnx(model, {false, "m", 1});
  const Matrix<float> x = RandomInputs(3, 4, 1);
  int refused = 0;
  for (size_t size = 0; size < file.size(); ++size) {
    absl::StatusOr<Model<float>> imported =
        ImportOnnx(absl::string_view(file).substr(0, size), {});
    if (!imported.ok()) {
      ++refused;
      EXPECT_EQ(imported.status().code(), absl::StatusCode::kInvalidArgument)
          << size << ": " << imported.status();
      continue;
    }
    EXPECT_EQ(MaxAbsDiff(PredictOrDie(*imported, x), PredictOrDie(model, x)),
              0.0f)
        << "prefix of " << size << " bytes imported a different model";
  }
  EXPECT_GT(refused, static_cast<int>(file.size() / 2));
}

TEST(ImportOnnxTest, CorruptedFilesNeverCrash) {
  const Model<float> model = RandomizedModel(
      MakeConfig({3, 4, 4, 2}, Task::kRegression,
                 Normalization::kPostActivation, Activation::kSigmoid),
      2);
  const std::string file = *ExportOnnx(model, {false, "m", 1});
  std::mt19937_64 rng(17);
  std::uniform_int_distribution<size_t> position(0, file.size() - 1);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int trial = 0; trial < 2000; ++trial) {
    std::string corrupted = file;
    for (int flips = 0; flips < 1 + trial % 4; ++flips) {
      corrupted[position(rng)] = static_cast<char>(byte(rng));
    }
    absl::StatusOr<Model<float>> imported = ImportOnnx(corrupted, {});
    if (imported.ok()) {
      EXPECT_EQ(imported->config().layer_sizes.front(), 3);
    }
  }
}

TEST(ImportOnnxTest, RefusesWhatIsNotOnnx) {
  for (const std::string& bytes :
       {std::string(), std::string("hello, world"), std::string(100, '\xff')}) {
    absl::StatusOr<Model<float>> imported = ImportOnnx(bytes, {});
    ASSERT_FALSE(imported.ok());
    EXPECT_EQ(imported.status().code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST(ImportOnnxTest, RefusesUnsupportedVersions) {
  const Model<float> model =
      RandomizedModel(MakeConfig({2, 2}, Task::kRegression,
                                 Normalization::kNone, Activation::kRelu),
                      1);
  onnx::ModelProto proto;
  ASSERT_TRUE(proto.ParseFromString(*ExportOnnx(model, {})));
  proto.mutable_opset_import(0)->set_version(7);
  absl::StatusOr<Model<float>> imported =
      ImportOnnx(proto.SerializeAsString(), {});
  EXPECT_THAT(imported.status().message(), HasSubstr("opset_import"));
  proto.mutable_opset_import(0)->set_version(13);
  proto.set_ir_version(0);
  imported = ImportOnnx(proto.SerializeAsString(), {});
  EXPECT_THAT(imported.status().message(), HasSubstr("ir_version"));
}

TEST(ImportOnnxTest, ModelsOverTheParameterLimitAreResourceExhausted) {
  const Model<float> model = RandomizedModel(
      MakeConfig({10, 10, 2}, Task::kClassification,
                 Normalization::kPreActivation, Activation::kRelu),
      1);
  absl::StatusOr<Model<float>> imported =
      ImportOnnx(*ExportOnnx(model, {}), {/*max_parameters=*/50});
  EXPECT_EQ(imported.status().code(), absl::StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace bnmlp
