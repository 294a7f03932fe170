#include "core/layer_layout.h"

namespace bnmlp {

int NumLayers(const std::vector<int64_t>& layer_sizes) {
  return layer_sizes.size() < 2 ? 0 : static_cast<int>(layer_sizes.size()) - 1;
}

LayerLayout LayoutOf(const std::vector<int64_t>& layer_sizes,
                     Normalization normalization, int layer) {
  LayerLayout layout;
  layout.inputs = layer_sizes[layer];
  layout.outputs = layer_sizes[layer + 1];
  layout.output_layer = layer + 1 == NumLayers(layer_sizes);
  layout.has_bias =
      layout.output_layer || normalization != Normalization::kPreActivation;
  layout.has_batch_norm =
      !layout.output_layer && normalization != Normalization::kNone;
  return layout;
}

}  // namespace bnmlp
