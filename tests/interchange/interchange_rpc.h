// The RPCs the interchange e2e tests make against a real bnmlp-server, and
// the JSON files they exchange with ONNX Runtime and PyTorch.
#ifndef BNMLP_TESTS_INTERCHANGE_INTERCHANGE_RPC_H_
#define BNMLP_TESTS_INTERCHANGE_INTERCHANGE_RPC_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bnmlp/v1/bnmlp.grpc.pb.h"

namespace bnmlp::testing {

// Row-major samples: rows[i] is sample i.
using Rows = std::vector<std::vector<float>>;

std::unique_ptr<v1::BnMlpService::Stub> ConnectTo(const std::string& address);

v1::Tensor RowsToTensor(const Rows& rows);
Rows TensorToRows(const v1::Tensor& tensor);
// Standard normal rows from `seed`.
Rows RandomRows(int64_t n, int64_t width, uint64_t seed);
// max |a - b| over all entries; infinity if the shapes differ.
double MaxAbsDiff(const Rows& a, const Rows& b);

// Every call has a 60 s deadline; a non-OK status becomes the error.
absl::Status CreateModel(v1::BnMlpService::Stub& stub,
                         const v1::CreateModelRequest& request);
// Runs Train to its end; returns the final summary.
absl::StatusOr<v1::TrainProgress> Train(v1::BnMlpService::Stub& stub,
                                        const v1::TrainRequest& request);
absl::StatusOr<Rows> Predict(v1::BnMlpService::Stub& stub,
                             const std::string& name, const Rows& x);
// The whole file, checked against the size and CRC-32 of the first message.
absl::StatusOr<std::string> ExportModel(v1::BnMlpService::Stub& stub,
                                        const std::string& name,
                                        v1::Format format, bool fold);
// Sends the file in 64 KiB chunks with its size and CRC-32.
absl::StatusOr<v1::ModelInfo> ImportModel(v1::BnMlpService::Stub& stub,
                                          const std::string& name,
                                          v1::Format format,
                                          const std::string& file);

// {"x": rows} as a file run_onnx.js reads.
std::string RowsJson(const Rows& rows);
// The rows of a JSON array of arrays of numbers.
absl::StatusOr<Rows> RowsFromJson(const std::string& json_array);

}  // namespace bnmlp::testing

#endif  // BNMLP_TESTS_INTERCHANGE_INTERCHANGE_RPC_H_
