#pragma once
// A mixture-of-experts MLP as transformers runs Mixtral, Qwen2-MoE and Qwen3-MoE: each
// token's router logits, softmax, its top k experts (ties: the lower index), their weights
// renormalized where the model does; each expert run on the tokens routed to it, its output
// times the weight added to the token's sum in expert order (transformers' index_add_ over
// experts in order); Qwen2-MoE's shared expert times sigmoid(shared_expert_gate) added last.
#include <functional>
#include <vector>

#include "decoder/decoder_layer.hpp"

namespace wasmerge {
namespace decoder {

// Runs SwiGLU MLP `expert` (0..experts−1; `experts`: the shared one) on n rows of `in`.
using ExpertFn = std::function<void(int expert, const float* in, size_t n, std::vector<float>& out)>;

// h [tokens, hidden] ← the mixture of experts of layer `layer` applied to h.
void moe_mlp(const LayerRun& run, int layer, std::vector<float>& h, const ExpertFn& expert);

}  // namespace decoder
}  // namespace wasmerge
