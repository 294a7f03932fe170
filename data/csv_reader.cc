#include "data/csv_reader.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "data/compressed_file.h"

namespace bnmlp::data {
namespace {

// A column's role; roles >= 0 are the index of a regression target.
constexpr int kFeatureColumn = -1;
constexpr int kLabelColumn = -2;

// Long fields are cut short in messages so that errors stay one line.
constexpr size_t kMaxQuotedField = 40;

std::string Quoted(absl::string_view field) {
  if (field.size() <= kMaxQuotedField) return absl::StrCat("'", field, "'");
  return absl::StrCat("'", field.substr(0, kMaxQuotedField), "...'");
}

// The delimiter as messages show it: ',' or '\t'.
std::string DelimiterName(char delimiter) {
  return absl::StrCat("'", absl::CEscape(absl::string_view(&delimiter, 1)),
                      "'");
}

absl::Status ValidateOptions(const CsvOptions& options) {
  const char d = options.delimiter;
  if (d == '\n' || d == '\r' || d == '\0' || absl::ascii_isdigit(d) ||
      d == '.' || d == '+' || d == '-') {
    return absl::InvalidArgumentError(absl::StrCat(
        "delimiter ", DelimiterName(d),
        " is not allowed; expected a character that cannot be part of a "
        "number or a line end, such as ',', ';' or '\\t'"));
  }
  if (!std::isfinite(options.feature_scale)) {
    return absl::InvalidArgumentError(
        absl::StrCat("feature_scale is ", options.feature_scale,
                     "; expected a finite number"));
  }
  if (options.task != CsvTask::kRegression && !options.target_columns.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("target_columns is set for a ",
                     options.task == CsvTask::kClassification ? "classification"
                                                              : "features-only",
                     " task; expected it empty (target columns are for task = "
                     "regression)"));
  }
  return absl::OkStatus();
}

bool IsNumber(absl::string_view field) {
  float value;
  return absl::SimpleAtof(field, &value);
}

// Whether the first non-blank line, `line`, is a header to skip.
bool IsHeader(absl::string_view line, const CsvOptions& options) {
  if (options.header != CsvHeader::kAuto) {
    return options.header == CsvHeader::kPresent;
  }
  for (absl::string_view field : absl::StrSplit(line, options.delimiter)) {
    if (!IsNumber(field)) return true;
  }
  return false;
}

// A class label: a non-negative integer, also when written as 3.0.
bool ParseLabel(absl::string_view field, int32_t* label) {
  if (absl::SimpleAtoi(field, label)) return *label >= 0;
  double value;
  if (!absl::SimpleAtod(field, &value) || !(value >= 0) ||
      value > std::numeric_limits<int32_t>::max() ||
      value != std::trunc(value)) {
    return false;
  }
  *label = static_cast<int32_t>(value);
  return true;
}

// Parses data lines one at a time into Examples. The first data line fixes
// the column count and, with it, which column is a feature, the label or
// which target.
class CsvParser {
 public:
  // `max_rows` bounds the rows to come; it sizes the one allocation.
  CsvParser(const std::string& path, const CsvOptions& options,
            int64_t max_rows)
      : path_(path), options_(options), max_rows_(max_rows) {}

  absl::Status ParseLine(absl::string_view line, int64_t line_number) {
    const int64_t num_fields =
        std::count(line.begin(), line.end(), options_.delimiter) + 1;
    if (roles_.empty()) {
      absl::Status status = AssignColumns(num_fields, line_number);
      if (!status.ok()) return status;
    }
    if (num_fields != static_cast<int64_t>(roles_.size())) {
      return Malformed(
          line_number,
          absl::StrCat("found ", num_fields, " fields; expected ",
                       roles_.size(), " (as on line ", first_data_line_, ")"));
    }
    examples_.targets.resize(examples_.targets.size() + examples_.num_targets);
    int64_t column = 0;
    for (absl::string_view field : absl::StrSplit(line, options_.delimiter)) {
      absl::Status status = ParseField(field, column++, line_number);
      if (!status.ok()) return status;
    }
    ++examples_.num_samples;
    return absl::OkStatus();
  }

  // Call after the last line; `header_line` is 0 if there was none.
  absl::StatusOr<Examples> Finish(int64_t header_line) && {
    if (examples_.num_samples == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          path_, ": no data rows",
          header_line > 0
              ? absl::StrCat(" after the header on line ", header_line)
              : std::string(" (the file is empty)"),
          "; expected lines of numbers"));
    }
    return std::move(examples_);
  }

 private:
  absl::Status Malformed(int64_t line_number, absl::string_view what) const {
    return absl::InvalidArgumentError(
        absl::StrCat(path_, ":", line_number, ": ", what));
  }

  // Resolves `index` (negative: from the end) against `num_columns`.
  absl::StatusOr<int64_t> ResolveColumn(absl::string_view option, int index,
                                        int64_t num_columns,
                                        int64_t line_number) const {
    const int64_t column = index < 0 ? num_columns + index : index;
    if (column < 0 || column >= num_columns) {
      return Malformed(
          line_number,
          absl::StrCat(option, " ", index, " is out of range for ", num_columns,
                       " columns (delimiter ",
                       DelimiterName(options_.delimiter), "); expected ",
                       -num_columns, "..", num_columns - 1));
    }
    return column;
  }

  absl::Status AssignRole(absl::string_view option, int index, int role,
                          int64_t line_number) {
    absl::StatusOr<int64_t> column =
        ResolveColumn(option, index, roles_.size(), line_number);
    if (!column.ok()) return column.status();
    if (roles_[*column] != kFeatureColumn) {
      return Malformed(line_number,
                       absl::StrCat(option, " names column ", *column,
                                    " twice; expected distinct "
                                    "columns"));
    }
    roles_[*column] = role;
    return absl::OkStatus();
  }

  absl::Status AssignColumns(int64_t num_columns, int64_t line_number) {
    first_data_line_ = line_number;
    roles_.assign(num_columns, kFeatureColumn);
    int64_t label_or_targets = 0;
    if (options_.task == CsvTask::kClassification) {
      absl::Status status = AssignRole("label_column", options_.label_column,
                                       kLabelColumn, line_number);
      if (!status.ok()) return status;
      label_or_targets = 1;
    } else if (options_.task == CsvTask::kRegression) {
      std::vector<int> targets = options_.target_columns;
      if (targets.empty()) targets.push_back(-1);
      for (size_t k = 0; k < targets.size(); ++k) {
        absl::Status status = AssignRole("target_columns", targets[k],
                                         static_cast<int>(k), line_number);
        if (!status.ok()) return status;
      }
      examples_.num_targets = static_cast<int64_t>(targets.size());
      label_or_targets = examples_.num_targets;
    }
    examples_.num_features = num_columns - label_or_targets;
    if (examples_.num_features == 0) {
      return Malformed(line_number,
                       absl::StrCat("all ", num_columns, " columns (delimiter ",
                                    DelimiterName(options_.delimiter),
                                    ") are labels or targets; expected at "
                                    "least one feature column"));
    }
    examples_.features.reserve(max_rows_ * examples_.num_features);
    return absl::OkStatus();
  }

  absl::Status ParseField(absl::string_view field, int64_t column,
                          int64_t line_number) {
    const int role = roles_[column];
    if (role == kLabelColumn) {
      int32_t label;
      if (!ParseLabel(field, &label)) {
        return BadField(line_number, column, field,
                        "a class label (an integer >= 0)");
      }
      examples_.labels.push_back(label);
      return absl::OkStatus();
    }
    float value;
    if (!absl::SimpleAtof(field, &value) || !std::isfinite(value)) {
      return BadField(line_number, column, field, "a finite number");
    }
    if (role == kFeatureColumn) {
      examples_.features.push_back(value * options_.feature_scale);
    } else {
      examples_.targets[examples_.num_samples * examples_.num_targets + role] =
          value;
    }
    return absl::OkStatus();
  }

  absl::Status BadField(int64_t line_number, int64_t column,
                        absl::string_view field,
                        absl::string_view expected) const {
    return Malformed(line_number,
                     absl::StrCat("column ", column, " (", Quoted(field),
                                  "): expected ", expected));
  }

  const std::string& path_;
  const CsvOptions& options_;
  const int64_t max_rows_;
  std::vector<int> roles_;  // per column; empty until the first data line
  int64_t first_data_line_ = 0;
  Examples examples_;
};

}  // namespace

absl::StatusOr<Examples> ReadCsv(const std::string& path,
                                 const CsvOptions& options) {
  absl::Status valid = ValidateOptions(options);
  if (!valid.ok()) return valid;
  absl::StatusOr<FileContents> contents = ReadMaybeCompressedFile(path);
  if (!contents.ok()) return contents.status();

  absl::string_view text = contents->bytes;
  absl::ConsumePrefix(&text, "\xEF\xBB\xBF");  // UTF-8 byte-order mark
  const int64_t num_lines = std::count(text.begin(), text.end(), '\n') + 1;
  CsvParser parser(path, options, num_lines);
  bool first_line = true;
  int64_t header_line = 0;
  int64_t line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    absl::ConsumeSuffix(&line, "\r");
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    if (first_line) {
      first_line = false;
      if (IsHeader(line, options)) {
        header_line = line_number;
        continue;
      }
    }
    absl::Status status = parser.ParseLine(line, line_number);
    if (!status.ok()) return status;
  }
  return std::move(parser).Finish(header_line);
}

}  // namespace bnmlp::data
