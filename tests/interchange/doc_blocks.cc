#include "tests/interchange/doc_blocks.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace bnmlp::testing {

std::vector<DocBlock> ParseDocBlocks(absl::string_view markdown) {
  std::vector<DocBlock> blocks;
  std::string section;
  DocBlock* open = nullptr;
  for (absl::string_view line : absl::StrSplit(markdown, '\n')) {
    if (open != nullptr) {
      if (absl::StartsWith(line, "```")) {
        open = nullptr;
      } else {
        absl::StrAppend(&open->text, line, "\n");
      }
      continue;
    }
    if (absl::ConsumePrefix(&line, "## ")) {
      section = std::string(line);
    } else if (absl::ConsumePrefix(&line, "```")) {
      DocBlock block;
      block.section = section;
      for (absl::string_view word :
           absl::StrSplit(line, ' ', absl::SkipEmpty())) {
        if (absl::ConsumePrefix(&word, "file=")) {
          block.file = std::string(word);
        } else if (block.language.empty()) {
          block.language = std::string(word);
        }
      }
      blocks.push_back(std::move(block));
      open = &blocks.back();
    }
  }
  return blocks;
}

}  // namespace bnmlp::testing
