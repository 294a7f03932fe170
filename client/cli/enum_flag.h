// Parses a flag value naming a protobuf enum value, case-insensitively, by
// the value's name without the enum's prefix: --task=regression,
// --normalization=post_activation, --optimizer=adam (bnmlp.v1 follows buf's
// STANDARD rules, so the values are NORMALIZATION_POST_ACTIVATION, ...).
#ifndef BNMLP_CLIENT_CLI_ENUM_FLAG_H_
#define BNMLP_CLIENT_CLI_ENUM_FLAG_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/generated_enum_reflection.h"

namespace bnmlp::cli {
namespace enum_flag_internal {

// "LEARNING_RATE_SCHEDULE_" for the enum LearningRateSchedule: the prefix
// buf's ENUM_VALUE_PREFIX rule puts on every value.
inline std::string ValuePrefix(const google::protobuf::EnumDescriptor& e) {
  std::string prefix;
  for (const char c : e.name()) {
    if (absl::ascii_isupper(c) && !prefix.empty()) prefix += '_';
    prefix += absl::ascii_toupper(c);
  }
  return prefix + "_";
}

// The value's name without the prefix, lower case: "post_activation".
inline std::string ShortName(const google::protobuf::EnumValueDescriptor& v) {
  absl::string_view name = v.name();
  absl::ConsumePrefix(&name, ValuePrefix(*v.type()));
  return absl::AsciiStrToLower(name);
}

}  // namespace enum_flag_internal

// Returns the value of protobuf enum E named `text` (any case, without the
// enum's prefix; the full name is accepted too), or INVALID_ARGUMENT naming
// --`flag` and listing the accepted names. *_UNSPECIFIED is not accepted:
// leaving the flag unset is how a user asks for the server's default.
template <typename E>
absl::StatusOr<E> ParseEnumFlag(absl::string_view flag,
                                absl::string_view text) {
  const google::protobuf::EnumDescriptor* descriptor =
      google::protobuf::GetEnumDescriptor<E>();
  const std::string lower = absl::AsciiStrToLower(text);
  std::vector<std::string> accepted;
  for (int i = 0; i < descriptor->value_count(); ++i) {
    const google::protobuf::EnumValueDescriptor* value = descriptor->value(i);
    if (value->number() == 0) continue;  // *_UNSPECIFIED
    const std::string name = enum_flag_internal::ShortName(*value);
    if (lower == name || lower == absl::AsciiStrToLower(value->name())) {
      return static_cast<E>(value->number());
    }
    accepted.push_back(name);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("--", flag, "='", text, "': expected one of ",
                   absl::StrJoin(accepted, ", ")));
}

// ParseEnumFlag for a flag that may be unset: an empty `text` (the flag was
// not given) is the enum's *_UNSPECIFIED value, which the server reads as
// its documented default.
template <typename E>
absl::StatusOr<E> ParseOptionalEnumFlag(absl::string_view flag,
                                        absl::string_view text) {
  if (text.empty()) return static_cast<E>(0);
  return ParseEnumFlag<E>(flag, text);
}

// The lower-case name of enum value `value` without the enum's prefix, e.g.
// "pre_activation" for NORMALIZATION_PRE_ACTIVATION; the number for a value
// this build does not know.
template <typename E>
std::string EnumFlagName(E value) {
  const google::protobuf::EnumValueDescriptor* descriptor =
      google::protobuf::GetEnumDescriptor<E>()->FindValueByNumber(value);
  return descriptor == nullptr ? absl::StrCat(static_cast<int>(value))
                               : enum_flag_internal::ShortName(*descriptor);
}

}  // namespace bnmlp::cli

#endif  // BNMLP_CLIENT_CLI_ENUM_FLAG_H_
