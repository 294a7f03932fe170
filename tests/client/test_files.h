// Files the client and CLI tests write: the data tests' temporary directory
// and IDX writer, plus CSV text for a separable problem.
#ifndef BNMLP_TESTS_CLIENT_TEST_FILES_H_
#define BNMLP_TESTS_CLIENT_TEST_FILES_H_

#include <cstdint>
#include <string>

#include "tests/data/temp_files.h"

namespace bnmlp::client_testing {

using ::bnmlp::data::test_files::IdxBytes;
using ::bnmlp::data::test_files::ReadRawFile;
using ::bnmlp::data::test_files::TempDir;

// A separable classification problem: `rows` samples of `features` values;
// the label is the index of the largest of the first `classes` features.
// Returns CSV text with the label in the last column.
std::string SeparableCsv(int rows, int features, int classes, uint32_t seed);

}  // namespace bnmlp::client_testing

#endif  // BNMLP_TESTS_CLIENT_TEST_FILES_H_
