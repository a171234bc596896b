#pragma once
// The computed tensors of an adapted model (SPEC §8), each read block by block as f32.
#include <memory>
#include <optional>
#include <string>

#include "pipeline/tensor_source.hpp"

namespace wasmerge {

// One LoRA-adapted weight. Stored as rows × cols (W's own layout): W' = W + s·P·Q with
// P [rows, r] and Q [r, cols]: P = B, Q = A for a Linear (W [out, in]); P = Aᵀ, Q = Bᵀ
// when `transposed` (fan_in_fan_out's W [in, out]; an embedding's W [vocab, dim] with
// lora_embedding_A [r, vocab], lora_embedding_B [dim, r]). Q is held whole, P read per
// block. DoRA rescales W' by magnitude / ‖W'‖ per output: a stored row for a Linear, a
// stored column when transposed (a pass over the tensor before its first block).
struct LoraFactors {
  ModelTensor weight;  // W in the model's file
  ModelTensor a, b;    // lora_A / lora_B (or lora_embedding_A / _B) in the adapter's file
  bool transposed = false;
  double scale = 1;
  std::optional<ModelTensor> magnitude;  // DoRA's lora_magnitude_vector
  std::string adapter, module;           // for messages and the dry run
};
std::shared_ptr<const ComputedTensor> lora_weight(LoraFactors factors);

// A module's bias with lora_B's bias added: b + s·bias.
std::shared_ptr<const ComputedTensor> shifted_bias(const ModelTensor& bias, const ModelTensor& lora_bias, double scale,
                                                   const std::string& adapter);

// A modules_to_save tensor of the adapter in place of the model's.
std::shared_ptr<const ComputedTensor> saved_module(const ModelTensor& replacement, const std::string& adapter);

}  // namespace wasmerge
