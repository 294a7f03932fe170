// Which parts each Linear layer of a BN-MLP has: the one derivation of the
// layer layout, used by the model, the parameter count, the training pass
// and the inference model alike.
#ifndef BNMLP_CORE_LAYER_LAYOUT_H_
#define BNMLP_CORE_LAYER_LAYOUT_H_

#include <cstdint>
#include <vector>

#include "core/model_config.h"

namespace bnmlp {

struct LayerLayout {
  int64_t inputs = 0;   // layer_sizes[layer]
  int64_t outputs = 0;  // layer_sizes[layer + 1]
  bool output_layer = false;
  // Pre-activation hidden layers have no bias: BatchNorm removes the mean
  // and beta takes the bias's role (DESIGN.md section 2).
  bool has_bias = false;
  // Hidden layers unless the normalization is kNone; never the output
  // layer.
  bool has_batch_norm = false;
};

// Linear layers described by `layer_sizes`: size() - 1, or 0 for fewer than
// two sizes.
int NumLayers(const std::vector<int64_t>& layer_sizes);

// The layout of layer `layer` (0-based; requires 0 <= layer <
// NumLayers(layer_sizes)). Sizes are copied as given, even if not positive.
LayerLayout LayoutOf(const std::vector<int64_t>& layer_sizes,
                     Normalization normalization, int layer);
inline LayerLayout LayoutOf(const ModelConfig& config, int layer) {
  return LayoutOf(config.layer_sizes, config.normalization, layer);
}

}  // namespace bnmlp

#endif  // BNMLP_CORE_LAYER_LAYOUT_H_
