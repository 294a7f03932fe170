// The defaults table in README.md states the numbers of common/api_defaults.h
// (the one table the server applies): this test keeps the two in step.
#include "common/api_defaults.h"

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"

namespace bnmlp {
namespace {

// "| request | `field` | default |" rows of README's "### Defaults" table,
// as field -> default text.
std::map<std::string, std::string> ReadmeDefaults() {
  std::ifstream file(std::string(BNMLP_SOURCE_DIR) + "/README.md");
  std::stringstream text;
  text << file.rdbuf();
  const std::string readme = text.str();
  const size_t start = readme.find("### Defaults");
  EXPECT_NE(start, std::string::npos) << "README.md has no Defaults section";
  std::map<std::string, std::string> defaults;
  if (start == std::string::npos) return defaults;
  const size_t end = readme.find("\n## ", start);
  for (absl::string_view line :
       absl::StrSplit(readme.substr(start, end - start), '\n')) {
    std::vector<std::string> cells = absl::StrSplit(line, '|');
    if (cells.size() != 5) continue;
    absl::string_view field = absl::StripAsciiWhitespace(cells[2]);
    absl::ConsumePrefix(&field, "`");
    absl::ConsumeSuffix(&field, "`");
    defaults[std::string(field)] =
        std::string(absl::StripAsciiWhitespace(cells[3]));
  }
  return defaults;
}

// The numbers in a table cell, in order ("0.05 for SGD, 0.001 for Adam"
// gives {0.05, 0.001}; "1e-5 (PyTorch's)" gives {1e-5}).
std::vector<double> Numbers(const std::string& cell) {
  std::vector<double> numbers;
  const char* p = cell.c_str();
  while (*p != '\0') {
    char* end = nullptr;
    const double value = std::strtod(p, &end);
    if (end != p && (std::isdigit(static_cast<unsigned char>(*p)) ||
                     *p == '-' || *p == '.')) {
      numbers.push_back(value);
      p = end;
    } else {
      ++p;
    }
  }
  return numbers;
}

TEST(ApiDefaultsTest, ReadmeTableStatesTheServersDefaults) {
  const std::map<std::string, std::string> readme = ReadmeDefaults();
  using V = std::vector<double>;
  EXPECT_EQ(Numbers(readme.at("epochs")), V{api_defaults::kEpochs});
  EXPECT_EQ(Numbers(readme.at("batch_size")), V{api_defaults::kBatchSize});
  EXPECT_EQ(
      Numbers(readme.at("learning_rate")),
      (V{api_defaults::kSgdLearningRate, api_defaults::kAdamLearningRate}));
  EXPECT_EQ(Numbers(readme.at("momentum")), V{api_defaults::kSgdMomentum});
  EXPECT_EQ(Numbers(readme.at("weight_decay")), V{api_defaults::kWeightDecay});
  EXPECT_EQ(Numbers(readme.at("shuffle_seed")),
            V{static_cast<double>(api_defaults::kShuffleSeed)});
  EXPECT_EQ(Numbers(readme.at("seed")),
            V{static_cast<double>(api_defaults::kSeed)});
  EXPECT_EQ(Numbers(readme.at("batch_norm_momentum")),
            V{api_defaults::kBatchNormMomentum});
  EXPECT_EQ(Numbers(readme.at("batch_norm_epsilon")),
            V{api_defaults::kBatchNormEpsilon});
}

}  // namespace
}  // namespace bnmlp
