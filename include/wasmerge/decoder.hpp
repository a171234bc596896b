#pragma once
// A decoder-only transformer's forward pass, as Hugging Face runs Llama, Mistral, Qwen2
// and Qwen3 (RMSNorm, rotary embeddings with rope_theta and rope_scaling, grouped-query
// attention, SwiGLU, Qwen2's q/k/v biases, Qwen3's q/k norms, tied embeddings), in f32.
// MoE upcycling's `hidden` routers read its hidden states; evaluation reads its logits.
//
// Weights stream: each matrix is read in blocks of rows that fit the memory budget,
// converted to f32 and multiplied into every token's activations at once, so a layer's
// weights are read once per run whatever the model's size. Every output element is one
// sum in a fixed order computed by one task: the bytes are the same for any thread count
// and budget, natively and in WebAssembly.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "wasmerge/model.hpp"
#include "wasmerge/thread_pool.hpp"

namespace wasmerge {

// What config.json says about the shapes and conventions of the forward pass.
struct DecoderShape {
  std::string model_type;  // llama | mistral | qwen2 | qwen3 | mixtral | qwen2_moe | qwen3_moe
  int layers = 0;
  int hidden = 0;
  int intermediate = 0;
  int heads = 0;
  int kv_heads = 0;
  int head_dim = 0;  // config's head_dim, else hidden / heads
  uint64_t vocab = 0;
  double rms_eps = 1e-6;
  double rope_theta = 10000;
  // rope_scaling: none, "linear" (factor) or "llama3" (factor, low/high_freq_factor,
  // original_max_position_embeddings); another type is an error naming it.
  std::string rope_type = "default";
  double rope_factor = 1, rope_low_freq_factor = 1, rope_high_freq_factor = 4;
  double rope_original_max_positions = 8192;
  uint64_t max_positions = 0;
  bool tie_embeddings = false;
  bool qkv_bias = false;  // Qwen2 always; Llama's attention_bias
  bool qk_norm = false;   // Qwen3
  uint64_t sliding_window = 0;  // Mistral's: a query sees the keys less than this far back; 0: all
  // Mixture of experts (mixtral, qwen2_moe, qwen3_moe; experts 0: dense). Mixtral's experts
  // are block_sparse_moe.experts.E.w1/w2/w3 of intermediate; Qwen's mlp.experts.E.*_proj of
  // moe_intermediate, on layers (l+1) % sparse_step == 0 outside mlp_only_layers (the others
  // a dense mlp of intermediate), Qwen2-MoE's with a shared expert of shared_intermediate
  // scaled by sigmoid(shared_expert_gate).
  int experts = 0, top_k = 0;
  bool norm_topk = false;  // Mixtral always renormalizes the top k weights
  int moe_intermediate = 0, shared_intermediate = 0, sparse_step = 1;
  std::vector<int> mlp_only_layers;
  bool sparse_layer(int layer) const;
};

// Reads config.json's text; `file` names it in messages. An architecture the decoder does
// not run is an error naming the ones it runs.
DecoderShape read_decoder_shape(const std::string& config_json, const std::string& file);

// The hidden states at the input of `layer` (0: the embeddings; shape.layers: the output
// of the last layer, before the final norm), one row of `hidden` floats per token, the
// sequences' tokens one after another.
using HiddenStatesFn = std::function<void(int layer, const float* states, size_t tokens)>;

class Decoder {
 public:
  // model: the folder's tensors (model.embed_tokens.weight, model.layers.N.*, model.norm.weight,
  // lm_head.weight unless tied). A tensor missing or of another shape is an error naming it.
  Decoder(const Model& model, DecoderShape shape, ThreadPool& pool, uint64_t budget_bytes);

  // Runs every sequence (positions from 0, causal attention within the sequence) through
  // layers [0, last_layer) and reports the states at the input of layers 0..last_layer.
  // on_layer returns nothing; cancel by throwing from it.
  void hidden_states(const std::vector<std::vector<int32_t>>& sequences, int last_layer,
                     const HiddenStatesFn& on_layer);

  // The logits of every token, [tokens, vocab] row-major: all layers, the final norm, lm_head.
  std::vector<float> logits(const std::vector<std::vector<int32_t>>& sequences);

  // Evaluation (SPEC §9): for each sequence of n tokens, −log p(token i | tokens before it)
  // for i = 1..n−1, the sequences one after another, in f64 from the f32 logits that
  // logits() gives; lm_head is streamed in blocks of rows with a running max and sum of
  // exponentials per token, updated row by row in vocabulary order, so no [tokens, vocab]
  // array exists and the block size changes no bit. after_layer(l) runs after layer l.
  std::vector<double> next_token_nll(const std::vector<std::vector<int32_t>>& sequences,
                                     const std::function<void(int layer)>& after_layer);

  // The activations' bytes per token of a layer (the estimate that cuts window groups).
  uint64_t activation_bytes_per_token() const;

  const DecoderShape& shape() const { return shape_; }

 private:
  const Model& model_;
  DecoderShape shape_;
  ThreadPool& pool_;
  uint64_t budget_;
};

}  // namespace wasmerge
