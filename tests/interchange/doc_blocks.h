// The code blocks of a Markdown page, so tests can run what the
// documentation shows.
#ifndef BNMLP_TESTS_INTERCHANGE_DOC_BLOCKS_H_
#define BNMLP_TESTS_INTERCHANGE_DOC_BLOCKS_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace bnmlp::testing {

// One fenced block (``` ... ```).
struct DocBlock {
  std::string section;   // the last "## " heading before it, without "## "
  std::string language;  // the first word of the info string ("sh")
  std::string file;      // the info string's file=NAME, if any
  std::string text;      // the lines between the fences
};

// Every fenced block of `markdown`, in order. A fence inside a block (an
// unclosed block) ends at the end of the page.
std::vector<DocBlock> ParseDocBlocks(absl::string_view markdown);

}  // namespace bnmlp::testing

#endif  // BNMLP_TESTS_INTERCHANGE_DOC_BLOCKS_H_
