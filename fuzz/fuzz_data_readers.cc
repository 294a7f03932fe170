// Fuzzes the dataset readers of data/ (the CLI's and the demo's): CSV/TSV
// (data/csv_reader.h) and IDX images and labels (data/idx_reader.h), plain
// or gzip (the readers detect gzip by its magic bytes, so the fuzzer
// reaches the zlib path by writing one). The first byte picks the reader,
// the next ones its options; the rest is the file. A reader's result must
// keep its header's promises (sizes that agree, finite features, labels
// >= 0); a broken promise aborts, as a crash would.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "data/csv_reader.h"
#include "data/examples.h"
#include "data/idx_reader.h"
#include "fuzz/fuzz_input.h"

namespace bnmlp::data {
namespace {

void Check(bool promise) {
  if (!promise) std::abort();
}

// What every successful read promises (data/examples.h).
void CheckExamples(const Examples& examples) {
  Check(examples.num_samples >= 1 && examples.num_features >= 1);
  Check(static_cast<int64_t>(examples.features.size()) ==
        examples.num_samples * examples.num_features);
  for (float value : examples.features) Check(std::isfinite(value));
  Check(examples.labels.empty() ||
        static_cast<int64_t>(examples.labels.size()) == examples.num_samples);
  for (int32_t label : examples.labels) Check(label >= 0);
  Check(static_cast<int64_t>(examples.targets.size()) ==
        examples.num_samples * examples.num_targets);
  for (float value : examples.targets) Check(std::isfinite(value));
}

CsvOptions TakeCsvOptions(fuzz::FuzzInput& input) {
  CsvOptions options;
  const uint8_t kinds = input.TakeByte();
  options.task = static_cast<CsvTask>(kinds % 3);
  options.header = static_cast<CsvHeader>((kinds / 3) % 3);
  static constexpr char kDelimiters[] = {',', '\t', ';', ' '};
  const uint8_t delimiter = input.TakeByte();
  // Mostly the usual ones; sometimes any byte (a bad one is an error).
  options.delimiter = delimiter < 0xF0 ? kDelimiters[delimiter % 4]
                                       : static_cast<char>(delimiter & 0x7F);
  const int8_t column = static_cast<int8_t>(input.TakeByte());
  if (options.task == CsvTask::kClassification) {
    options.label_column = column;
  } else if (options.task == CsvTask::kRegression && column != -1) {
    options.target_columns = {column, static_cast<int8_t>(input.TakeByte())};
  }
  if (kinds >= 0xF0) options.feature_scale = 1.0f / 255.0f;
  return options;
}

void FuzzOneFile(fuzz::FuzzInput& input) {
  switch (input.TakeByte() % 3) {
    case 0: {
      const CsvOptions options = TakeCsvOptions(input);
      absl::StatusOr<Examples> read =
          ReadCsv(fuzz::WriteScratchFile(input.rest()), options);
      if (!read.ok()) return;
      CheckExamples(*read);
      Check(options.task != CsvTask::kClassification || !read->labels.empty());
      break;
    }
    case 1: {
      const bool scale = input.TakeByte() % 2 == 0;
      absl::StatusOr<Examples> read =
          ReadIdxImages(fuzz::WriteScratchFile(input.rest()), scale);
      if (read.ok()) CheckExamples(*read);
      break;
    }
    default: {
      absl::StatusOr<std::vector<int32_t>> read =
          ReadIdxLabels(fuzz::WriteScratchFile(input.rest()));
      if (!read.ok()) return;
      Check(!read->empty());
      for (int32_t label : *read) Check(label >= 0 && label <= 255);
      break;
    }
  }
}

}  // namespace
}  // namespace bnmlp::data

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  bnmlp::fuzz::FuzzInput input(data, size);
  bnmlp::data::FuzzOneFile(input);
  return 0;
}
