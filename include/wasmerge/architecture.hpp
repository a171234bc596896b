#pragma once
// What a tensor's name says about its place in a transformer, in one table (SPEC §5):
// layer markers (`layers.i.`, `h.i.`, `blocks.i.`, `layer.i.`), the pre-weights that come
// before the layers (embeddings), the vocabulary tensors, and the config.json keys that
// hold the layer count. The plan, the parameters' `t` and config.json edits read it here.
#include <optional>
#include <string>
#include <vector>

namespace wasmerge {

// A layer tensor's name split at its layer number: "model.layers.3.mlp.up_proj.weight" is
// layer 3 of template "model.layers.{}.mlp.up_proj.weight" (prefix + {} + suffix).
struct LayerName {
  int layer;
  std::string prefix;  // up to and including the marker: "model.layers."
  std::string suffix;  // from the dot after the number: ".mlp.up_proj.weight"
  std::string template_name() const { return prefix + "{}" + suffix; }
  std::string with_layer(int i) const { return prefix + std::to_string(i) + suffix; }
};

std::optional<LayerName> parse_layer_name(const std::string& tensor);

// Layers a model has: one more than the highest layer number among its tensor names.
int count_layers(const std::vector<std::string>& tensor_names);

// Embeddings and the like: non-layer tensors that sit before the layers (SPEC §5).
bool is_pre_weight(const std::string& tensor);
// Embeddings and output heads: the tensors whose rows are the vocabulary.
bool is_vocabulary_tensor(const std::string& tensor);

// The config.json keys that hold the layer count, in the order they are looked for.
const std::vector<std::string>& layer_count_keys();

}  // namespace wasmerge
