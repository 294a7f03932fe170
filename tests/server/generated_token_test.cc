#include "server/generated_token.h"

#include <sys/stat.h>

#include <cstdlib>
#include <string>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/token_auth.h"
#include "tests/data/temp_files.h"

namespace bnmlp {
namespace {

using ::bnmlp::data::test_files::ReadRawFile;
using ::bnmlp::data::test_files::TempDir;
using ::testing::HasSubstr;

int ModeOf(const std::string& path) {
  struct stat info;
  EXPECT_EQ(stat(path.c_str(), &info), 0) << path;
  return static_cast<int>(info.st_mode & 07777);
}

TEST(DefaultGeneratedTokenPathTest, TheModelDirThenHome) {
  EXPECT_EQ(*DefaultGeneratedTokenPath("/var/lib/bnmlp"),
            "/var/lib/bnmlp/server_token");
  const char* home = std::getenv("HOME");
  if (home != nullptr && *home != '\0') {
    EXPECT_EQ(*DefaultGeneratedTokenPath(""),
              std::string(home) + "/.bnmlp/server_token");
  } else {
    EXPECT_EQ(DefaultGeneratedTokenPath("").status().code(),
              absl::StatusCode::kFailedPrecondition);
  }
}

TEST(EnsureGeneratedTokenFileTest, CreatesAPrivateWriterTokenFileThenReusesIt) {
  TempDir dir;
  const std::string path = dir.PathOf("state/server_token");
  absl::StatusOr<GeneratedTokenFile> made = EnsureGeneratedTokenFile(path);
  ASSERT_TRUE(made.ok()) << made.status();
  EXPECT_TRUE(made->created);
  EXPECT_EQ(ModeOf(path), 0600);
  EXPECT_EQ(ModeOf(dir.PathOf("state")), 0700);
  const std::string contents = ReadRawFile(path);
  absl::StatusOr<std::unique_ptr<TokenAuthenticator>> auth =
      TokenAuthenticator::FromText(contents, path);
  ASSERT_TRUE(auth.ok()) << auth.status();
  EXPECT_EQ((*auth)->writers(), 1);
  EXPECT_EQ((*auth)->readers(), 0);

  absl::StatusOr<GeneratedTokenFile> again = EnsureGeneratedTokenFile(path);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(again->created);
  EXPECT_EQ(ReadRawFile(path), contents);
}

TEST(EnsureGeneratedTokenFileTest, RefusesAFileOthersCanRead) {
  TempDir dir;
  const std::string path = dir.Write("server_token", "x writer\n");
  ASSERT_EQ(chmod(path.c_str(), 0644), 0);
  absl::StatusOr<GeneratedTokenFile> made = EnsureGeneratedTokenFile(path);
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(made.status().message(), HasSubstr("mode 0644"));
  EXPECT_EQ(ReadRawFile(path), "x writer\n");  // left alone
}

TEST(EnsureGeneratedTokenFileTest, AnUnwritablePlaceIsAnError) {
  absl::StatusOr<GeneratedTokenFile> made =
      EnsureGeneratedTokenFile("/proc/no/such/place/server_token");
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(made.status().message(), HasSubstr("/proc/no/such/place"));
}

}  // namespace
}  // namespace bnmlp
