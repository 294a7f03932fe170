#include "tests/interchange/doc_blocks.h"

#include "gtest/gtest.h"

namespace bnmlp::testing {
namespace {

TEST(ParseDocBlocksTest, FindsBlocksWithTheirSectionLanguageAndFile) {
  const std::vector<DocBlock> blocks = ParseDocBlocks(
      "# Title\n"
      "```sh\necho intro\n```\n"
      "## Run it\ntext\n"
      "```python file=a.py\nprint(1)\n\nprint(2)\n```\n"
      "## Next\n```\nplain\n```\n");
  ASSERT_EQ(blocks.size(), 3u);
  EXPECT_EQ(blocks[0].section, "");
  EXPECT_EQ(blocks[0].language, "sh");
  EXPECT_EQ(blocks[0].text, "echo intro\n");
  EXPECT_EQ(blocks[1].section, "Run it");
  EXPECT_EQ(blocks[1].language, "python");
  EXPECT_EQ(blocks[1].file, "a.py");
  EXPECT_EQ(blocks[1].text, "print(1)\n\nprint(2)\n");
  EXPECT_EQ(blocks[2].section, "Next");
  EXPECT_EQ(blocks[2].language, "");
}

TEST(ParseDocBlocksTest, HeadingsInsideBlocksAreText) {
  const std::vector<DocBlock> blocks =
      ParseDocBlocks("## A\n```sh\n## not a heading\n```\n```sh\nopen");
  ASSERT_EQ(blocks.size(), 2u);
  EXPECT_EQ(blocks[0].text, "## not a heading\n");
  EXPECT_EQ(blocks[1].section, "A");
  EXPECT_EQ(blocks[1].text, "open\n");
}

}  // namespace
}  // namespace bnmlp::testing
