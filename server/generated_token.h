// The writer token a server makes for itself when it listens beyond
// loopback and no --auth_tokens_file was given, so that it never runs open
// by accident (as TorchServe and Jupyter do). The token is written to a
// file only its owner can read, in the tokens-file format ("TOKEN writer"),
// so the same file serves the server and `bnmlp --token_file`.
#ifndef BNMLP_SERVER_GENERATED_TOKEN_H_
#define BNMLP_SERVER_GENERATED_TOKEN_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace bnmlp {

// Where the token goes: `<model_dir>/server_token` when there is a model
// store, else `$HOME/.bnmlp/server_token`. FAILED_PRECONDITION if neither
// a model_dir nor $HOME is set.
absl::StatusOr<std::string> DefaultGeneratedTokenPath(
    absl::string_view model_dir);

struct GeneratedTokenFile {
  std::string path;
  bool created = false;  // false: an earlier run's file was reused
};

// Makes sure `path` holds a writer token: reuses the file if it exists (so
// clients keep working across restarts) and is a regular file that only
// its owner may read or write; otherwise creates it with mode 0600
// (creating its directory, mode 0700, if missing) holding a fresh random
// token. FAILED_PRECONDITION if an existing file is open to others (it is
// left alone: the token may have leaked), or is not a regular file;
// UNAVAILABLE if it cannot be written.
absl::StatusOr<GeneratedTokenFile> EnsureGeneratedTokenFile(
    const std::string& path);

}  // namespace bnmlp

#endif  // BNMLP_SERVER_GENERATED_TOKEN_H_
