#include "server/store/dataset_file.h"

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/dataset_checksum.h"
#include "server/store/dataset_store.h"
#include "tests/data/temp_files.h"

namespace bnmlp {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class DatasetFileTest : public ::testing::Test {
 protected:
  // 3 rows x 2 features with labels, written to path_.
  uint32_t WriteSample() {
    absl::StatusOr<DatasetBuilder> builder =
        DatasetBuilder::Create(RowLayout{2, TargetKind::kClassLabels, 0});
    EXPECT_TRUE(builder.ok());
    const std::vector<float> x = {1, 2, 3, 4, 5, 6};
    Dataset<float> rows;
    new (&rows.x) ConstMatrixMap<float>(x.data(), 2, 3);
    const std::vector<int32_t> labels = {0, 4, 1};
    rows.labels = labels;
    EXPECT_TRUE(builder->AppendRows(rows).ok());
    absl::StatusOr<StoredDataset> data = std::move(*builder).Finish();
    EXPECT_TRUE(data.ok());
    ContentChecksum checksum;
    checksum.AddFeatures(x);
    checksum.AddLabels(labels);
    EXPECT_TRUE(WriteDatasetFile(path_, *data, checksum.Value()).ok());
    return checksum.Value();
  }

  absl::StatusOr<LoadedDataset> Read() {
    absl::StatusOr<std::unique_ptr<DatasetFileReader>> reader =
        DatasetFileReader::Open(path_);
    if (!reader.ok()) return reader.status();
    return (*reader)->ReadRows();
  }

  const data::test_files::TempDir temp_dir_;
  const std::string dir_ = temp_dir_.path();
  std::string path_ = dir_ + "/d.dataset";
};

TEST_F(DatasetFileTest, RoundTripsTheRowsAndTheChecksum) {
  const uint32_t checksum = WriteSample();
  absl::StatusOr<std::unique_ptr<DatasetFileReader>> reader =
      DatasetFileReader::Open(path_);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ((*reader)->rows(), 3);
  EXPECT_EQ((*reader)->bytes(), 3 * 3 * 4);
  absl::StatusOr<LoadedDataset> loaded = (*reader)->ReadRows();
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->content_checksum, checksum);
  EXPECT_THAT(loaded->data.features(), ElementsAre(1, 2, 3, 4, 5, 6));
  EXPECT_THAT(loaded->data.labels(), ElementsAre(0, 4, 1));
  EXPECT_EQ(loaded->data.classes(), 5);
}

TEST_F(DatasetFileTest, EveryTruncationAndBitFlipIsDataLoss) {
  WriteSample();
  std::string bytes;
  {
    std::ifstream in(path_, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  for (size_t size = 0; size < bytes.size(); ++size) {
    std::ofstream(path_, std::ios::binary | std::ios::trunc)
        << bytes.substr(0, size);
    EXPECT_EQ(Read().status().code(), absl::StatusCode::kDataLoss)
        << "truncated to " << size;
  }
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string flipped = bytes;
    flipped[i] = static_cast<char>(flipped[i] ^ 0x04);
    std::ofstream(path_, std::ios::binary | std::ios::trunc) << flipped;
    const absl::Status status = Read().status();
    // A flipped version number is a newer format, not damage.
    if (i >= 8 && i < 12) {
      EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
    } else {
      EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss)
          << "byte " << i << ": " << status;
    }
    EXPECT_THAT(status.message(), HasSubstr(path_));
  }
}

TEST_F(DatasetFileTest, TheStoreListsMovesAsideAndRemoves) {
  absl::StatusOr<std::unique_ptr<DatasetStore>> store =
      DatasetStore::Open(dir_);
  ASSERT_TRUE(store.ok()) << store.status();
  path_ = (*store)->PathOf("d");
  WriteSample();
  std::ofstream((*store)->directory() + "/e.dataset.tmp.1.2") << "partial";
  store = DatasetStore::Open(dir_);  // removes the temporary
  ASSERT_TRUE(store.ok());
  EXPECT_THAT(*(*store)->ListNames(), ElementsAre("d"));
  absl::StatusOr<std::string> aside = (*store)->MoveAside("d");
  ASSERT_TRUE(aside.ok());
  EXPECT_EQ(*aside, path_ + ".corrupt");
  EXPECT_TRUE((*store)->ListNames()->empty());
  WriteSample();
  EXPECT_TRUE((*store)->Remove("d").ok());
  EXPECT_TRUE((*store)->Remove("d").ok());  // already gone: fine
  EXPECT_TRUE((*store)->ListNames()->empty());
  EXPECT_TRUE(std::filesystem::exists(*aside));  // never deleted
}

}  // namespace
}  // namespace bnmlp
