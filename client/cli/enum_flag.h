// Parses a flag value naming a protobuf enum value, case-insensitively:
// --task=regression, --normalization=post_activation, --optimizer=adam.
#ifndef BNMLP_CLIENT_CLI_ENUM_FLAG_H_
#define BNMLP_CLIENT_CLI_ENUM_FLAG_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/generated_enum_reflection.h"

namespace bnmlp::cli {

// Returns the value of protobuf enum E named `text` (any case), or
// INVALID_ARGUMENT naming --`flag` and listing the accepted names.
template <typename E>
absl::StatusOr<E> ParseEnumFlag(absl::string_view flag,
                                absl::string_view text) {
  const google::protobuf::EnumDescriptor* descriptor =
      google::protobuf::GetEnumDescriptor<E>();
  const std::string upper = absl::AsciiStrToUpper(text);
  std::vector<std::string> accepted;
  for (int i = 0; i < descriptor->value_count(); ++i) {
    const google::protobuf::EnumValueDescriptor* value = descriptor->value(i);
    if (value->name() == upper) return static_cast<E>(value->number());
    accepted.push_back(absl::AsciiStrToLower(value->name()));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("--", flag, "='", text, "': expected one of ",
                   absl::StrJoin(accepted, ", ")));
}

// The lower-case name of enum value `value`, e.g. "pre_activation".
template <typename E>
std::string EnumFlagName(E value) {
  const google::protobuf::EnumValueDescriptor* descriptor =
      google::protobuf::GetEnumDescriptor<E>()->FindValueByNumber(value);
  return descriptor == nullptr ? absl::StrCat(static_cast<int>(value))
                               : absl::AsciiStrToLower(descriptor->name());
}

}  // namespace bnmlp::cli

#endif  // BNMLP_CLIENT_CLI_ENUM_FLAG_H_
