// JSON output of the CLI (--json): protobuf's own JSON printer, so field
// names are the API's proto3 JSON names (layerSizes, trainingState, ...).
#ifndef BNMLP_CLIENT_CLI_JSON_OUTPUT_H_
#define BNMLP_CLIENT_CLI_JSON_OUTPUT_H_

#include <string>

#include "google/protobuf/message.h"

namespace bnmlp::cli {

// One line of JSON with every field, also those at their default (so a
// script finds "version": "0" rather than nothing). int64 fields are JSON
// strings, as proto3 JSON prescribes.
std::string ToJson(const google::protobuf::Message& message);

}  // namespace bnmlp::cli

#endif  // BNMLP_CLIENT_CLI_JSON_OUTPUT_H_
