#pragma once
// Rotary position embeddings and causal grouped-query attention, as transformers' Llama
// family computes them.
#include <cstddef>
#include <vector>

#include "wasmerge/decoder.hpp"
#include "wasmerge/thread_pool.hpp"

namespace wasmerge {
namespace decoder {

// transformers' inv_freq for head_dim: 1/θ^(2i/d), then rope_scaling's rescaling ("linear":
// ÷ factor; "llama3": _compute_llama3_parameters' low/medium/high frequency bands), in f64.
std::vector<double> rope_inverse_frequencies(const DecoderShape& shape);

// cos and sin of position·inv_freq_i for positions [0, positions), computed in f64 with the
// project's own sin/cos and rounded to f32, so every build holds the same table.
class RopeTable {
 public:
  RopeTable(const DecoderShape& shape, size_t positions);
  // Rotates one head's vector in place, rotate_half's pairing: (x_i, x_{i+d/2}).
  void apply(float* v, size_t position) const;

 private:
  size_t half_ = 0;
  std::vector<float> cos_, sin_;  // [position][half]
};

// One sequence's rows in the concatenated token axis.
struct SequenceSpan {
  size_t first = 0, length = 0;
};

// out[t, h·d..] = softmax_j(q_t,h · k_j,g / √d) · v_j,g over the sequence's j ≤ t (and j within
// the sliding window), g = h / (heads / kv_heads). q, out: [tokens, heads·d]; k, v:
// [tokens, kv_heads·d]. One task per (sequence, head, block of queries).
void causal_attention(const DecoderShape& shape, const std::vector<SequenceSpan>& sequences, const float* q,
                      const float* k, const float* v, float* out, ThreadPool& pool);

}  // namespace decoder
}  // namespace wasmerge
