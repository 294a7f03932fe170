#include "interchange/onnx_steps.h"

#include <cmath>
#include <initializer_list>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "interchange/quoted_name.h"

namespace bnmlp {
namespace {

constexpr char kSupportedOps[] =
    "Gemm, MatMul, Add (a bias), BatchNormalization, Relu, Tanh, Sigmoid, "
    "Softmax, Identity";

absl::Status Invalid(const ChainOp& op, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(op.label(), ": ", what));
}

std::string ShapeText(const std::vector<int64_t>& dims) {
  return absl::StrCat("[", absl::StrJoin(dims, ", "), "]");
}

// A node's attributes, each checked to be one the operation defines.
class Attributes {
 public:
  static absl::StatusOr<Attributes> Read(
      const ChainOp& op, std::initializer_list<absl::string_view> allowed) {
    Attributes attributes;
    for (const onnx::AttributeProto& attribute : op.node->attribute()) {
      bool known = false;
      for (absl::string_view name : allowed) known |= attribute.name() == name;
      if (!known) {
        return Invalid(op, absl::StrCat("unsupported attribute ",
                                        QuotedName(attribute.name())));
      }
      attributes.by_name_[attribute.name()] = &attribute;
    }
    return attributes;
  }

  absl::StatusOr<int64_t> Int(const ChainOp& op, const std::string& name,
                              int64_t default_value) const {
    auto it = by_name_.find(name);
    if (it == by_name_.end()) return default_value;
    const onnx::AttributeProto& a = *it->second;
    if (a.type() != onnx::AttributeProto::INT &&
        !(a.type() == onnx::AttributeProto::UNDEFINED && a.has_i())) {
      return Invalid(op,
                     absl::StrCat("attribute '", name, "' must be an integer"));
    }
    return a.i();
  }

  absl::StatusOr<float> Float(const ChainOp& op, const std::string& name,
                              float default_value) const {
    auto it = by_name_.find(name);
    if (it == by_name_.end()) return default_value;
    const onnx::AttributeProto& a = *it->second;
    if (a.type() != onnx::AttributeProto::FLOAT &&
        !(a.type() == onnx::AttributeProto::UNDEFINED && a.has_f())) {
      return Invalid(op,
                     absl::StrCat("attribute '", name, "' must be a float"));
    }
    if (!std::isfinite(a.f())) {
      return Invalid(op, absl::StrCat("attribute '", name, "' must be finite"));
    }
    return a.f();
  }

 private:
  absl::flat_hash_map<std::string, const onnx::AttributeProto*> by_name_;
};

// The constant at input `index` ("" for an omitted optional input gives
// null), INVALID_ARGUMENT when it is missing or the data.
absl::StatusOr<const FloatTensor*> ConstantInput(const ChainOp& op, int index,
                                                 absl::string_view role,
                                                 bool optional = false) {
  if (index >= op.node->input_size() || op.node->input(index).empty()) {
    if (optional) return nullptr;
    return Invalid(op,
                   absl::StrCat("input ", index, " (", role, ") is missing"));
  }
  if (index == op.data_input) {
    return Invalid(op, absl::StrCat("input ", index, " (", role,
                                    ") is the computed value; expected a "
                                    "constant, with the data as input 0"));
  }
  return op.constants[index].get();
}

absl::Status ExpectDataFirst(const ChainOp& op, int max_inputs) {
  if (op.data_input != 0) {
    return Invalid(op, "expected the computed value as input 0");
  }
  if (op.node->input_size() > max_inputs) {
    return Invalid(op, absl::StrCat("expected at most ", max_inputs,
                                    " inputs, got ", op.node->input_size()));
  }
  return absl::OkStatus();
}

// A vector of `width` values: rank 1 [width], or [1, width] when
// `allow_row` (a broadcast bias).
absl::Status CheckVector(const ChainOp& op, const FloatTensor& t,
                         absl::string_view role, int64_t width,
                         bool allow_row) {
  const bool fits =
      (t.rank() == 1 && t.dims[0] == width) ||
      (allow_row && t.rank() == 2 && t.dims[0] == 1 && t.dims[1] == width);
  if (fits) return absl::OkStatus();
  return Invalid(
      op, absl::StrCat(role, ": expected shape [", width, "]",
                       allow_row ? absl::StrCat(" or [1, ", width, "]") : "",
                       ", got ", ShapeText(t.dims)));
}

// W [out, in] from a rank-2 constant that is [out, in] (`transposed`) or
// [in, out].
absl::StatusOr<Step> ProductFrom(const ChainOp& op, const FloatTensor& b,
                                 bool transposed, float alpha) {
  if (b.rank() != 2) {
    return Invalid(op, absl::StrCat("the weight must be a matrix, got shape ",
                                    ShapeText(b.dims)));
  }
  Step step;
  step.kind = StepKind::kProduct;
  step.label = op.label();
  step.out = transposed ? b.dims[0] : b.dims[1];
  step.in = transposed ? b.dims[1] : b.dims[0];
  if (step.out == 0 || step.in == 0) {
    return Invalid(op, absl::StrCat("the weight has shape ", ShapeText(b.dims),
                                    "; expected no zero"));
  }
  step.weight.resize(b.values.size());
  for (int64_t o = 0; o < step.out; ++o) {
    for (int64_t i = 0; i < step.in; ++i) {
      const float w =
          transposed ? b.values[o * step.in + i] : b.values[i * step.out + o];
      step.weight[o * step.in + i] = alpha * w;
    }
  }
  return step;
}

absl::StatusOr<Step> ReadGemm(const ChainOp& op) {
  BNMLP_RETURN_IF_ERROR(ExpectDataFirst(op, 3));
  BNMLP_ASSIGN_OR_RETURN(
      Attributes attributes,
      Attributes::Read(op, {"alpha", "beta", "transA", "transB"}));
  BNMLP_ASSIGN_OR_RETURN(const int64_t trans_a,
                         attributes.Int(op, "transA", 0));
  BNMLP_ASSIGN_OR_RETURN(const int64_t trans_b,
                         attributes.Int(op, "transB", 0));
  BNMLP_ASSIGN_OR_RETURN(const float alpha, attributes.Float(op, "alpha", 1));
  BNMLP_ASSIGN_OR_RETURN(const float beta, attributes.Float(op, "beta", 1));
  if (trans_a != 0) {
    return Invalid(op, "transA must be 0 (the data is [N, features])");
  }
  BNMLP_ASSIGN_OR_RETURN(const FloatTensor* b, ConstantInput(op, 1, "B"));
  BNMLP_ASSIGN_OR_RETURN(Step step, ProductFrom(op, *b, trans_b != 0, alpha));
  BNMLP_ASSIGN_OR_RETURN(const FloatTensor* c,
                         ConstantInput(op, 2, "C", /*optional=*/true));
  if (c != nullptr) {
    const bool scalar = c->values.size() == 1 && c->rank() <= 1;
    if (!scalar)
      BNMLP_RETURN_IF_ERROR(CheckVector(op, *c, "C", step.out, true));
    step.bias.resize(step.out);
    for (int64_t o = 0; o < step.out; ++o) {
      step.bias[o] = beta * c->values[scalar ? 0 : o];
    }
  }
  return step;
}

absl::StatusOr<Step> ReadMatMul(const ChainOp& op) {
  BNMLP_RETURN_IF_ERROR(ExpectDataFirst(op, 2));
  BNMLP_RETURN_IF_ERROR(Attributes::Read(op, {}).status());
  BNMLP_ASSIGN_OR_RETURN(const FloatTensor* b, ConstantInput(op, 1, "B"));
  return ProductFrom(op, *b, /*transposed=*/false, 1.0f);
}

// Add of a constant: the bias of the product just before it.
absl::Status AddBias(const ChainOp& op, std::vector<Step>& steps) {
  if (op.node->input_size() != 2) {
    return Invalid(op, "expected 2 inputs");
  }
  BNMLP_RETURN_IF_ERROR(Attributes::Read(op, {}).status());
  if (steps.empty() || steps.back().kind != StepKind::kProduct) {
    return Invalid(op,
                   "adds a constant that is not the bias of a product "
                   "(Gemm or MatMul) right before it");
  }
  const FloatTensor* constant = op.constants[1 - op.data_input].get();
  if (constant == nullptr) return Invalid(op, "expected 2 inputs");
  Step& product = steps.back();
  const FloatTensor& c = *constant;
  BNMLP_RETURN_IF_ERROR(
      CheckVector(op, c, "the added constant", product.out, true));
  product.bias.resize(product.out, 0.0f);
  for (int64_t o = 0; o < product.out; ++o) product.bias[o] += c.values[o];
  return absl::OkStatus();
}

absl::StatusOr<Step> ReadBatchNorm(const ChainOp& op, int64_t width) {
  BNMLP_RETURN_IF_ERROR(ExpectDataFirst(op, 5));
  BNMLP_ASSIGN_OR_RETURN(
      Attributes attributes,
      Attributes::Read(op, {"epsilon", "momentum", "training_mode"}));
  BNMLP_ASSIGN_OR_RETURN(const int64_t training,
                         attributes.Int(op, "training_mode", 0));
  if (training != 0) {
    return Invalid(op,
                   "training_mode must be 0: export in evaluation mode "
                   "(model.eval())");
  }
  Step step;
  step.kind = StepKind::kBatchNorm;
  step.label = op.label();
  BNMLP_ASSIGN_OR_RETURN(step.epsilon, attributes.Float(op, "epsilon", 1e-5f));
  BNMLP_ASSIGN_OR_RETURN(step.momentum, attributes.Float(op, "momentum", 0.9f));
  if (!(step.epsilon > 0) || !(step.momentum >= 0 && step.momentum <= 1)) {
    return Invalid(op, "expected epsilon > 0 and momentum in [0, 1]");
  }
  const char* roles[] = {"scale", "B", "input_mean", "input_var"};
  std::vector<float>* targets[] = {&step.scale, &step.shift, &step.mean,
                                   &step.var};
  int64_t features = width;  // unknown (-1) only before any product
  for (int i = 0; i < 4; ++i) {
    BNMLP_ASSIGN_OR_RETURN(const FloatTensor* t,
                           ConstantInput(op, i + 1, roles[i]));
    if (features < 0 && t->rank() == 1) features = t->dims[0];
    BNMLP_RETURN_IF_ERROR(CheckVector(op, *t, roles[i], features, false));
    *targets[i] = t->values;
  }
  for (size_t i = 0; i < step.var.size(); ++i) {
    if (!(step.var[i] >= 0)) {
      return Invalid(op, absl::StrCat("input_var must be >= 0, got ",
                                      step.var[i], " at index ", i));
    }
  }
  return step;
}

absl::StatusOr<Step> ReadElementwise(const ChainOp& op, StepKind kind,
                                     Activation activation) {
  BNMLP_RETURN_IF_ERROR(ExpectDataFirst(op, 1));
  if (kind == StepKind::kSoftmax) {
    BNMLP_ASSIGN_OR_RETURN(Attributes attributes,
                           Attributes::Read(op, {"axis"}));
    BNMLP_ASSIGN_OR_RETURN(const int64_t axis, attributes.Int(op, "axis", -1));
    if (axis != 1 && axis != -1) {
      return Invalid(op, absl::StrCat("axis must be 1 or -1 (the features), "
                                      "got ",
                                      axis));
    }
  } else {
    BNMLP_RETURN_IF_ERROR(Attributes::Read(op, {}).status());
  }
  Step step;
  step.kind = kind;
  step.label = op.label();
  step.activation = activation;
  return step;
}

absl::StatusOr<Step> ReadStep(const ChainOp& op, int64_t width) {
  const std::string& type = op.node->op_type();
  if (type == "Gemm") return ReadGemm(op);
  if (type == "MatMul") return ReadMatMul(op);
  if (type == "BatchNormalization") return ReadBatchNorm(op, width);
  if (type == "Relu") {
    return ReadElementwise(op, StepKind::kActivation, Activation::kRelu);
  }
  if (type == "Tanh") {
    return ReadElementwise(op, StepKind::kActivation, Activation::kTanh);
  }
  if (type == "Sigmoid") {
    return ReadElementwise(op, StepKind::kActivation, Activation::kSigmoid);
  }
  if (type == "Softmax") {
    return ReadElementwise(op, StepKind::kSoftmax, Activation::kIdentity);
  }
  std::string hint;
  if (type == "Dropout") hint = " (export in evaluation mode: model.eval())";
  if (type == "LogSoftmax") {
    hint = " (bnmlp classifiers output probabilities: end in Softmax)";
  }
  return Invalid(op, absl::StrCat("not an operation of a bnmlp model", hint,
                                  "; expected one of ", kSupportedOps));
}

}  // namespace

absl::StatusOr<std::vector<Step>> ReadSteps(const OnnxChain& chain) {
  std::vector<Step> steps;
  int64_t width = chain.input_features;
  for (const ChainOp& op : chain.ops) {
    if (op.node->op_type() == "Add") {
      BNMLP_RETURN_IF_ERROR(AddBias(op, steps));
      continue;
    }
    BNMLP_ASSIGN_OR_RETURN(Step step, ReadStep(op, width));
    if (step.kind == StepKind::kProduct) {
      if (width >= 0 && step.in != width) {
        return Invalid(op, absl::StrCat("the weight takes ", step.in,
                                        " features, but the values reaching "
                                        "it have ",
                                        width));
      }
      width = step.out;
    } else if (step.kind == StepKind::kBatchNorm) {
      width = static_cast<int64_t>(step.scale.size());
    }
    steps.push_back(std::move(step));
  }
  if (chain.output_features >= 0 && width != chain.output_features) {
    return absl::InvalidArgumentError(
        absl::StrCat("the graph's output declares ", chain.output_features,
                     " features, but the operations produce ", width));
  }
  return steps;
}

}  // namespace bnmlp
