#include "interchange/quoted_name.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace bnmlp {

std::string QuotedName(absl::string_view name) {
  constexpr size_t kShown = 80;
  std::string quoted =
      absl::StrCat("'", absl::CHexEscape(name.substr(0, kShown)), "'");
  if (name.size() > kShown) {
    absl::StrAppend(&quoted, "...(", name.size() - kShown, " more bytes cut)");
  }
  return quoted;
}

}  // namespace bnmlp
