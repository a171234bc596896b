// The naming conventions of Hugging Face transformer checkpoints, as data.
#include "wasmerge/architecture.hpp"

#include <algorithm>
#include <cctype>

namespace wasmerge {
namespace {

// "h." must be a whole name part, so every marker must start the name or follow a dot.
constexpr const char* kLayerMarkers[] = {"layers.", "h.", "blocks.", "layer."};
constexpr const char* kPreWeightParts[] = {"embed", "wte", "wpe"};
constexpr const char* kVocabularyParts[] = {"embed_tokens",    "lm_head",  "wte",
                                            "word_embeddings", "embed_in", "embed_out"};

template <size_t N>
bool contains_any(const std::string& name, const char* const (&parts)[N]) {
  return std::any_of(std::begin(parts), std::end(parts),
                     [&](const char* part) { return name.find(part) != std::string::npos; });
}

}  // namespace

std::optional<LayerName> parse_layer_name(const std::string& tensor) {
  for (const std::string marker : kLayerMarkers) {
    for (size_t pos = tensor.find(marker); pos != std::string::npos; pos = tensor.find(marker, pos + 1)) {
      if (pos != 0 && tensor[pos - 1] != '.') continue;
      const size_t digits = pos + marker.size();
      size_t end = digits;
      while (end < tensor.size() && std::isdigit(static_cast<unsigned char>(tensor[end]))) ++end;
      if (end == digits || end >= tensor.size() || tensor[end] != '.' || end - digits > 9) continue;
      return LayerName{std::stoi(tensor.substr(digits, end - digits)), tensor.substr(0, digits), tensor.substr(end)};
    }
  }
  return std::nullopt;
}

int count_layers(const std::vector<std::string>& tensor_names) {
  int n = 0;
  for (const auto& name : tensor_names)
    if (auto layer = parse_layer_name(name)) n = std::max(n, layer->layer + 1);
  return n;
}

bool is_pre_weight(const std::string& tensor) {
  return !parse_layer_name(tensor) && contains_any(tensor, kPreWeightParts);
}
bool is_vocabulary_tensor(const std::string& tensor) { return contains_any(tensor, kVocabularyParts); }

const std::vector<std::string>& layer_count_keys() {
  static const std::vector<std::string> keys = {"num_hidden_layers", "n_layer", "num_layers"};
  return keys;
}

}  // namespace wasmerge
