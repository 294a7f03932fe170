#include "server/token_auth.h"

#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bnmlp {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kWriterToken[] = "writer-token-0123456789abcdef";
constexpr char kReaderToken[] = "reader-token-0123456789abcdef";

std::unique_ptr<TokenAuthenticator> TwoTokens() {
  absl::StatusOr<std::unique_ptr<TokenAuthenticator>> auth =
      TokenAuthenticator::FromText(
          absl::StrCat("# tokens\n\n", kWriterToken, " writer\n  ",
                       kReaderToken, "\treader  \n"),
          "tokens.txt");
  EXPECT_TRUE(auth.ok()) << auth.status();
  return auth.ok() ? *std::move(auth) : nullptr;
}

std::string Bearer(absl::string_view token) {
  return absl::StrCat("Bearer ", token);
}

TEST(TokenFingerprintTest, IsTheStartOfTheSha256) {
  // printf %s abc | sha256sum
  EXPECT_EQ(TokenFingerprint("abc"), "ba7816bf");
}

TEST(GenerateTokenTest, SixtyFourHexDigitsAndNeverTheSame) {
  absl::StatusOr<std::string> a = GenerateToken();
  absl::StatusOr<std::string> b = GenerateToken();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->size(), 64u);
  EXPECT_EQ(a->find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(*a, *b);
}

TEST(TokenAuthenticatorTest, ParsesRolesCommentsAndBlankLines) {
  std::unique_ptr<TokenAuthenticator> auth = TwoTokens();
  ASSERT_NE(auth, nullptr);
  EXPECT_EQ(auth->writers(), 1);
  EXPECT_EQ(auth->readers(), 1);
}

TEST(TokenAuthenticatorTest, AWriterMayDoEverything) {
  std::unique_ptr<TokenAuthenticator> auth = TwoTokens();
  ASSERT_NE(auth, nullptr);
  std::string caller;
  for (const char* method : {"Predict", "DeleteModel", "Train", "Unknown"}) {
    EXPECT_TRUE(auth->Authorize(Bearer(kWriterToken), method, &caller).ok())
        << method;
  }
  EXPECT_EQ(caller, absl::StrCat("writer:", TokenFingerprint(kWriterToken)));
}

TEST(TokenAuthenticatorTest, AReaderReadsAndIsDeniedWrites) {
  std::unique_ptr<TokenAuthenticator> auth = TwoTokens();
  ASSERT_NE(auth, nullptr);
  std::string caller;
  EXPECT_TRUE(auth->Authorize(Bearer(kReaderToken), "Predict", &caller).ok());
  EXPECT_TRUE(
      auth->Authorize(Bearer(kReaderToken), "GetParameters", &caller).ok());
  const absl::Status denied =
      auth->Authorize(Bearer(kReaderToken), "DeleteModel", &caller);
  EXPECT_EQ(denied.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(denied.message(), HasSubstr("DeleteModel"));
  EXPECT_THAT(denied.message(), HasSubstr("writer token"));
  EXPECT_THAT(denied.message(), HasSubstr("reader role"));
  EXPECT_THAT(denied.message(), Not(HasSubstr(kReaderToken)));
  EXPECT_EQ(caller, absl::StrCat("reader:", TokenFingerprint(kReaderToken)));
}

TEST(TokenAuthenticatorTest, NoTokenSaysWhatIsMissing) {
  std::unique_ptr<TokenAuthenticator> auth = TwoTokens();
  ASSERT_NE(auth, nullptr);
  std::string caller;
  const absl::Status status = auth->Authorize(std::nullopt, "Predict", &caller);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(status.message(), HasSubstr("authorization: Bearer TOKEN"));
  EXPECT_EQ(caller, "");
}

TEST(TokenAuthenticatorTest, AWrongTokenOrSchemeIsUnauthenticatedAndNotEchoed) {
  std::unique_ptr<TokenAuthenticator> auth = TwoTokens();
  ASSERT_NE(auth, nullptr);
  std::string caller;
  const std::string wrong = "wrong-token-0123456789abcdef";
  absl::Status status = auth->Authorize(Bearer(wrong), "Predict", &caller);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(status.message(), Not(HasSubstr(wrong)));
  EXPECT_EQ(caller, absl::StrCat("unknown:", TokenFingerprint(wrong)));
  // A prefix or an extension of a valid token is not valid.
  for (const std::string& near :
       {std::string(kWriterToken).substr(0, 20),
        std::string(kWriterToken) + "x", std::string("")}) {
    EXPECT_EQ(auth->Authorize(Bearer(near), "Predict", &caller).code(),
              absl::StatusCode::kUnauthenticated);
  }
  status =
      auth->Authorize(absl::StrCat("Basic ", kWriterToken), "Predict", &caller);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(status.message(), HasSubstr("'Bearer TOKEN'"));
  EXPECT_THAT(status.message(), Not(HasSubstr(kWriterToken)));
  // The bare token, without the scheme, is refused too.
  EXPECT_EQ(auth->Authorize(kWriterToken, "Predict", &caller).code(),
            absl::StatusCode::kUnauthenticated);
  // The scheme is case-insensitive (RFC 7235).
  EXPECT_TRUE(
      auth->Authorize(absl::StrCat("bearer ", kWriterToken), "Predict", &caller)
          .ok());
}

TEST(TokenAuthenticatorTest, BadFilesNameTheLineButNeverTheToken) {
  struct Case {
    std::string text;
    std::string expected;
  };
  const std::string token = "a-long-enough-token-0123456789";
  for (const Case& c : std::vector<Case>{
           {absl::StrCat(token, "\n"), "line 1: expected 'TOKEN ROLE'"},
           {absl::StrCat("\n", token, " admin\n"),
            "line 2: the role must be reader or writer, got 'admin'"},
           {"short writer\n", "line 1: a token must have 16 to 4096"},
           {absl::StrCat(token, " writer\n", token, " reader\n"),
            "line 2: this token is listed twice"},
           {"# nothing\n\n", "no tokens"},
           {absl::StrCat(token, "\x01 writer\n"), "printable ASCII"},
       }) {
    absl::StatusOr<std::unique_ptr<TokenAuthenticator>> auth =
        TokenAuthenticator::FromText(c.text, "tokens.txt");
    ASSERT_FALSE(auth.ok()) << c.text;
    EXPECT_EQ(auth.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(auth.status().message(), HasSubstr("tokens.txt"));
    EXPECT_THAT(auth.status().message(), HasSubstr(c.expected));
    EXPECT_THAT(auth.status().message(), Not(HasSubstr(token)));
  }
}

TEST(TokenAuthenticatorTest, AMissingFileNamesTheFlagAndPath) {
  absl::StatusOr<std::unique_ptr<TokenAuthenticator>> auth =
      TokenAuthenticator::FromFile("/nonexistent/tokens", "auth_tokens_file");
  ASSERT_FALSE(auth.ok());
  EXPECT_EQ(auth.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(auth.status().message(),
              HasSubstr("--auth_tokens_file: cannot read /nonexistent/tokens"));
}

}  // namespace
}  // namespace bnmlp
