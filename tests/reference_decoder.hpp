#pragma once
// An independent f64 forward pass of the decoders transformers runs (Llama, Mistral, Qwen2,
// Qwen3) and of the mixture-of-experts layouts upcycling writes (Mixtral, Qwen2-MoE,
// Qwen3-MoE), written plainly from transformers' modeling code: no engine code, every loop
// in f64, libm's exp/sin/cos. The tests hold the engine's f32 pass to it.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace test {

struct RefTensor {
  std::vector<uint64_t> shape;
  std::vector<double> values;  // row-major
};
using RefTensors = std::map<std::string, RefTensor>;

// The logits of every token, [tokens][vocab] row-major, the sequences one after another.
std::vector<double> reference_logits(const std::string& config_json, const RefTensors& tensors,
                                     const std::vector<std::vector<int32_t>>& sequences);

// states[l]: the hidden states at the input of layer l (0: embeddings; layers: the last
// layer's output before the final norm), [tokens][hidden] row-major.
std::vector<std::vector<double>> reference_hidden_states(const std::string& config_json, const RefTensors& tensors,
                                                         const std::vector<std::vector<int32_t>>& sequences);

}  // namespace test
