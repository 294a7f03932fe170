#include "client/cli/json_output.h"

#include "google/protobuf/util/json_util.h"

namespace bnmlp::cli {

std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  std::string json;
  const auto status =
      google::protobuf::util::MessageToJsonString(message, &json, options);
  if (!status.ok()) {
    // Only messages holding an Any of an unknown type fail, and the CLI
    // prints none; still, a script must get valid JSON.
    return "{\"error\":\"the response could not be printed as JSON\"}";
  }
  return json;
}

}  // namespace bnmlp::cli
