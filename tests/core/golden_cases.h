// Reads tests/testdata/golden_bnmlp.json, the project's reference values
// (made by tests/testdata/make_golden.py with PyTorch in float64; its
// docstring, also stored in the file's "conventions", states the layouts,
// names and rules), into engine types. A missing or unreadable file throws,
// so every golden test fails loudly.
#ifndef BNMLP_TESTS_CORE_GOLDEN_CASES_H_
#define BNMLP_TESTS_CORE_GOLDEN_CASES_H_

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/matrix.h"
#include "core/model.h"
#include "core/optimizer.h"

namespace bnmlp::testing {

// The whole golden file; each element of "cases" is one network and batch.
const nlohmann::json& GoldenFile();

// The case's architecture and options.
ModelConfig GoldenConfig(const nlohmann::json& c);
// A model holding the case's parameters (running statistics at 0 / 1).
Model<double> GoldenModel(const nlohmann::json& c);
// A [rows][cols] JSON array as (cols x rows) samples-as-columns, the
// engine's batch layout.
Matrix<double> SamplesAsColumns(const nlohmann::json& rows);
// A flat JSON array of numbers.
Vector<double> JsonVector(const nlohmann::json& v);
// A [out][in] JSON array as a row-major weight.
RowMajorMatrix<double> JsonWeight(const nlohmann::json& w);
// The optimizer section's hyperparameters ("sgd" or "adam").
OptimizerOptions GoldenOptimizer(const nlohmann::json& section,
                                 OptimizerKind kind);

// A readable name for parameterized tests: pre_activation_relu_classification.
std::string CaseName(const nlohmann::json& c);

}  // namespace bnmlp::testing

#endif  // BNMLP_TESTS_CORE_GOLDEN_CASES_H_
