// The bnmlp.v1 API's defaults: what an unset request field stands for.
//
// The one table of them. The server fills unset fields from it
// (server/request_conversion.cc), the engine's option structs start from it
// (core/), the CLI names the values in its --help, and the .proto comments
// and README.md's table state the same numbers (tests check the README's).
#ifndef BNMLP_COMMON_API_DEFAULTS_H_
#define BNMLP_COMMON_API_DEFAULTS_H_

#include <cstdint>

namespace bnmlp::api_defaults {

// CreateModelRequest. Task, normalization and activation default to
// classification, pre-activation BatchNorm and ReLU (the enums' documented
// defaults; named by the converters, which own the enum mapping).
inline constexpr double kBatchNormMomentum = 0.1;  // PyTorch's BatchNorm1d
inline constexpr double kBatchNormEpsilon = 1e-5;  // PyTorch's BatchNorm1d
inline constexpr uint64_t kSeed = 0;

// TrainRequest. Epochs and batch size follow Keras' Model.fit.
inline constexpr int32_t kEpochs = 1;
inline constexpr int32_t kBatchSize = 32;
inline constexpr double kSgdLearningRate = 0.05;
inline constexpr double kAdamLearningRate = 0.001;  // torch.optim.Adam's
inline constexpr double kSgdMomentum = 0.9;
inline constexpr double kWeightDecay = 0;
inline constexpr uint64_t kShuffleSeed = 0;

}  // namespace bnmlp::api_defaults

#endif  // BNMLP_COMMON_API_DEFAULTS_H_
