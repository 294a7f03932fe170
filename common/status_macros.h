// Early-return helpers for absl::Status and absl::StatusOr, as in Abseil's
// internal status macros and TensorFlow's TF_RETURN_IF_ERROR.
//
//   BNMLP_RETURN_IF_ERROR(ValidateName(name));
//   BNMLP_ASSIGN_OR_RETURN(Model<float> model, Model<float>::Create(config));
//
// Prefixed with BNMLP_ because protobuf's internal stubs define unprefixed
// RETURN_IF_ERROR / ASSIGN_OR_RETURN macros of their own.
#ifndef BNMLP_COMMON_STATUS_MACROS_H_
#define BNMLP_COMMON_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Evaluates `expr` (an absl::Status) once; returns it from the enclosing
// function unless it is OK. Works in functions returning absl::Status or any
// absl::StatusOr<T>.
#define BNMLP_RETURN_IF_ERROR(expr)                                   \
  do {                                                                \
    if (::absl::Status bnmlp_status_ = (expr); !bnmlp_status_.ok()) { \
      return bnmlp_status_;                                           \
    }                                                                 \
  } while (false)

#define BNMLP_STATUS_MACROS_CONCAT_INNER_(a, b) a##b
#define BNMLP_STATUS_MACROS_CONCAT_(a, b) \
  BNMLP_STATUS_MACROS_CONCAT_INNER_(a, b)

// Evaluates `rexpr` (an absl::StatusOr<T>) once; returns its status from the
// enclosing function unless it is OK, otherwise moves its value into `lhs`,
// which may be a declaration (`auto x`, `Model<float> m`; not a reference to
// the temporary) or an existing variable.
#define BNMLP_ASSIGN_OR_RETURN(lhs, rexpr) \
  BNMLP_ASSIGN_OR_RETURN_IMPL_(            \
      BNMLP_STATUS_MACROS_CONCAT_(bnmlp_statusor_, __LINE__), lhs, rexpr)

#define BNMLP_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                 \
  if (!statusor.ok()) {                                    \
    return std::move(statusor).status();                   \
  }                                                        \
  lhs = *std::move(statusor)

#endif  // BNMLP_COMMON_STATUS_MACROS_H_
