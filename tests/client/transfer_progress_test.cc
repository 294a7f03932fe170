#include "client/cli/transfer_progress.h"

#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bnmlp::cli {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kMiB = int64_t{1} << 20;

TEST(FormatTransferBarTest, ShowsTheShareDoneAndTheSizes) {
  EXPECT_EQ(FormatTransferBar("exporting m.onnx", 3 * kMiB, 6 * kMiB, 200),
            "exporting m.onnx [==============>               ] 3.0/6.0 MiB");
  EXPECT_EQ(FormatTransferBar("x", 6 * kMiB, 6 * kMiB, 200),
            "x [==============================] 6.0/6.0 MiB");
  EXPECT_THAT(FormatTransferBar("x", kMiB, 0, 200), HasSubstr("1.0/? MiB"));
  EXPECT_EQ(FormatTransferBar("exporting m.onnx", 1, 2, 20).size(), 19u);
}

TEST(TransferProgressTest, DrawsOnlyOnATerminalForFilesOfAMiBOrMore) {
  std::ostringstream pipe;
  TransferProgress not_terminal(&pipe, false, "x", 80);
  not_terminal.Update(5 * kMiB, 10 * kMiB);
  not_terminal.Finish();
  EXPECT_EQ(pipe.str(), "");

  std::ostringstream small;
  TransferProgress tiny(&small, true, "x", 80);
  tiny.Update(100, 1000);
  tiny.Finish();
  EXPECT_EQ(small.str(), "");

  std::ostringstream terminal;
  TransferProgress big(&terminal, true, "x", 80);
  big.Update(kMiB, 2 * kMiB);
  big.Update(2 * kMiB, 2 * kMiB);
  big.Finish();
  EXPECT_THAT(terminal.str(), HasSubstr("\rx ["));
  EXPECT_THAT(terminal.str(), HasSubstr("2.0/2.0 MiB\x1b[K\n"));
}

}  // namespace
}  // namespace bnmlp::cli
