#include "interchange/layer_assembly.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"

namespace bnmlp {
namespace {

constexpr char kHiddenForms[] =
    "a hidden layer is a product followed by BatchNormalization and an "
    "activation (in either order), one of them, or nothing";

// What follows a hidden layer's product.
enum class Arrangement {
  kNothing,
  kActivation,
  kBatchNormThenActivation,
  kActivationThenBatchNorm,
  kBatchNormOnly,
};

struct Layer {
  const Step* product = nullptr;
  std::vector<const Step*> tail;  // the steps up to the next product
  const Step* batch_norm = nullptr;
  Arrangement arrangement = Arrangement::kNothing;
  Activation activation = Activation::kIdentity;
};

absl::Status Invalid(const Step& step, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(step.label, ": ", what));
}

std::string Describe(const Layer& layer) {
  const std::string act(ActivationName(layer.activation));
  switch (layer.arrangement) {
    case Arrangement::kNothing:
      return "nothing after its product";
    case Arrangement::kActivation:
      return absl::StrCat(act, " alone");
    case Arrangement::kBatchNormThenActivation:
      return absl::StrCat("BatchNorm then ", act);
    case Arrangement::kActivationThenBatchNorm:
      return absl::StrCat(act, " then BatchNorm");
    case Arrangement::kBatchNormOnly:
      return "BatchNorm alone";
  }
  return "unknown";
}

absl::StatusOr<std::vector<Layer>> GroupLayers(const std::vector<Step>& steps) {
  if (steps.empty()) {
    return absl::InvalidArgumentError("the graph has no operations");
  }
  std::vector<Layer> layers;
  for (const Step& step : steps) {
    if (step.kind == StepKind::kProduct) {
      Layer layer;
      layer.product = &step;
      layers.push_back(std::move(layer));
    } else if (layers.empty()) {
      return Invalid(step,
                     "comes before the first product (Gemm or MatMul); a "
                     "bnmlp model starts with a Linear layer");
    } else {
      layers.back().tail.push_back(&step);
    }
  }
  return layers;
}

absl::Status ClassifyHidden(Layer& layer) {
  const std::vector<const Step*>& tail = layer.tail;
  for (const Step* step : tail) {
    if (step->kind == StepKind::kSoftmax) {
      return Invalid(*step,
                     "Softmax before the last product; a bnmlp model applies "
                     "it only to the output layer");
    }
  }
  if (tail.size() > 2) return Invalid(*tail[2], kHiddenForms);
  if (tail.size() == 2 && tail[0]->kind == tail[1]->kind) {
    return Invalid(*tail[1], kHiddenForms);
  }
  for (const Step* step : tail) {
    if (step->kind == StepKind::kBatchNorm) layer.batch_norm = step;
    if (step->kind == StepKind::kActivation) {
      layer.activation = step->activation;
    }
  }
  if (tail.empty()) {
    layer.arrangement = Arrangement::kNothing;
  } else if (tail.size() == 1) {
    layer.arrangement = layer.batch_norm != nullptr
                            ? Arrangement::kBatchNormOnly
                            : Arrangement::kActivation;
  } else {
    layer.arrangement = tail[0]->kind == StepKind::kBatchNorm
                            ? Arrangement::kBatchNormThenActivation
                            : Arrangement::kActivationThenBatchNorm;
  }
  return absl::OkStatus();
}

absl::StatusOr<Task> OutputTask(const Layer& output) {
  for (size_t i = 0; i < output.tail.size(); ++i) {
    const bool fits = i == 0 && output.tail[i]->kind == StepKind::kSoftmax;
    if (!fits) {
      return Invalid(*output.tail[i],
                     "follows the last product; a bnmlp model's output layer "
                     "is a product followed by Softmax (classification) or "
                     "nothing (regression)");
    }
  }
  return output.tail.empty() ? Task::kRegression : Task::kClassification;
}

// The hidden layers agree on arrangement, activation, epsilon and momentum.
absl::Status CheckAgreement(const std::vector<Layer>& layers) {
  const Step* first_bn = nullptr;
  for (size_t l = 0; l + 1 < layers.size(); ++l) {
    const Layer& layer = layers[l];
    if (layer.arrangement != layers[0].arrangement ||
        layer.activation != layers[0].activation) {
      return Invalid(
          *layer.product,
          absl::StrCat("starts hidden layer ", l + 1, ", which has ",
                       Describe(layer), " where hidden layer 1 has ",
                       Describe(layers[0]),
                       "; a bnmlp model arranges every hidden layer alike, "
                       "with one activation"));
    }
    if (layer.batch_norm == nullptr) continue;
    if (first_bn == nullptr) first_bn = layer.batch_norm;
    if (layer.batch_norm->epsilon != first_bn->epsilon ||
        layer.batch_norm->momentum != first_bn->momentum) {
      return Invalid(
          *layer.batch_norm,
          absl::StrFormat("epsilon %g and momentum %g differ from the first "
                          "BatchNormalization's (%g, %g); a bnmlp model uses "
                          "one of each",
                          layer.batch_norm->epsilon, layer.batch_norm->momentum,
                          first_bn->epsilon, first_bn->momentum));
    }
  }
  return absl::OkStatus();
}

Normalization NormalizationOf(const std::vector<Layer>& layers) {
  if (layers.size() < 2) return Normalization::kNone;
  switch (layers[0].arrangement) {
    case Arrangement::kNothing:
    case Arrangement::kActivation:
      return Normalization::kNone;
    case Arrangement::kBatchNormThenActivation:
      return Normalization::kPreActivation;
    case Arrangement::kActivationThenBatchNorm:
      return Normalization::kPostActivation;
    case Arrangement::kBatchNormOnly:
      break;
  }
  for (size_t l = 0; l + 1 < layers.size(); ++l) {
    if (!layers[l].product->bias.empty()) {
      return Normalization::kPostActivation;
    }
  }
  return Normalization::kPreActivation;
}

ModelConfig ConfigOf(const std::vector<Layer>& layers, Task task) {
  ModelConfig config;
  config.layer_sizes.push_back(layers[0].product->in);
  for (const Layer& layer : layers) {
    config.layer_sizes.push_back(layer.product->out);
  }
  config.task = task;
  config.normalization = NormalizationOf(layers);
  config.activation =
      layers.size() < 2 ? Activation::kIdentity : layers[0].activation;
  config.seed = 0;
  const Step* bn = layers[0].batch_norm;
  if (bn != nullptr && config.normalization != Normalization::kNone) {
    config.batch_norm_epsilon = ShortestDecimal(bn->epsilon);
    // ONNX's momentum is 1 - PyTorch's: 0.9f becomes 0.1 (to 15 digits, so
    // that 1 - 0.9 does not show as 0.09999999999999998).
    const std::string torch_momentum =
        absl::StrFormat("%.15g", 1.0 - ShortestDecimal(bn->momentum));
    config.batch_norm_momentum = std::strtod(torch_momentum.c_str(), nullptr);
  }
  return config;
}

Vector<float> AsVector(const std::vector<float>& values) {
  return Eigen::Map<const Vector<float>>(
      values.data(), static_cast<Eigen::Index>(values.size()));
}

void FillLayer(const Layer& layer, Normalization normalization, bool output,
               LayerParameters<float>& p) {
  const Step& product = *layer.product;
  p.weight = Eigen::Map<const RowMajorMatrix<float>>(product.weight.data(),
                                                     product.out, product.in);
  const bool pre = !output && normalization == Normalization::kPreActivation;
  if (!pre) {
    p.bias = product.bias.empty() ? Vector<float>::Zero(product.out)
                                  : AsVector(product.bias);
  }
  if (output || normalization == Normalization::kNone) return;
  const Step& bn = *layer.batch_norm;
  p.gamma = AsVector(bn.scale);
  p.beta = AsVector(bn.shift);
  p.running_mean = AsVector(bn.mean);
  p.running_var = AsVector(bn.var);
  // BatchNorm(W x + b) = BatchNorm(W x) with the mean shifted by b.
  if (pre && !product.bias.empty()) p.running_mean -= AsVector(product.bias);
}

}  // namespace

double ShortestDecimal(float value) {
  char text[64];
  for (int digits = 1; digits <= 9; ++digits) {
    std::snprintf(text, sizeof(text), "%.*g", digits,
                  static_cast<double>(value));
    const double parsed = std::strtod(text, nullptr);
    if (static_cast<float>(parsed) == value) return parsed;
  }
  return value;
}

absl::StatusOr<Model<float>> AssembleModel(const std::vector<Step>& steps,
                                           int64_t max_parameters) {
  BNMLP_ASSIGN_OR_RETURN(std::vector<Layer> layers, GroupLayers(steps));
  for (size_t l = 0; l + 1 < layers.size(); ++l) {
    BNMLP_RETURN_IF_ERROR(ClassifyHidden(layers[l]));
  }
  BNMLP_ASSIGN_OR_RETURN(const Task task, OutputTask(layers.back()));
  BNMLP_RETURN_IF_ERROR(CheckAgreement(layers));
  const ModelConfig config = ConfigOf(layers, task);
  if (absl::Status valid = ValidateModelConfig(config, max_parameters);
      !valid.ok()) {
    return absl::Status(
        valid.code(), absl::StrCat("the model in the file: ", valid.message()));
  }
  BNMLP_ASSIGN_OR_RETURN(Model<float> model, Model<float>::Create(config));
  for (size_t l = 0; l < layers.size(); ++l) {
    FillLayer(layers[l], config.normalization, l + 1 == layers.size(),
              model.mutable_layer(static_cast<int>(l)));
  }
  return model;
}

}  // namespace bnmlp
