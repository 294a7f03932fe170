// Reading a whole small file (a certificate, a token file, a model file a
// client sends) into memory, with the errno turned into a status.
#ifndef BNMLP_COMMON_FILE_CONTENTS_H_
#define BNMLP_COMMON_FILE_CONTENTS_H_

#include <cerrno>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace bnmlp {

// The bytes of the file at `path`, or the reason it cannot be read as
// absl::ErrnoToStatus gives it (NOT_FOUND, PERMISSION_DENIED, ...) with the
// message "<context>cannot read <path>: <the system's reason>"; `context`
// names what the file is for (e.g. "--tls_key_file: "). Thread-safe.
inline absl::StatusOr<std::string> ReadFileContents(
    const std::string& path, absl::string_view context = "") {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream bytes;
  if (file) bytes << file.rdbuf();
  if (!file || file.bad()) {
    const int error = errno;
    return absl::ErrnoToStatus(error,
                               absl::StrCat(context, "cannot read ", path));
  }
  return bytes.str();
}

}  // namespace bnmlp

#endif  // BNMLP_COMMON_FILE_CONTENTS_H_
