#include "decoder/decoder_layer.hpp"

#include "decoder/layer_ops.hpp"
#include "decoder/streamed_weights.hpp"
#include "wasmerge/error.hpp"
#include "wasmerge/safetensors.hpp"

namespace wasmerge {
namespace decoder {
namespace {


std::string layer_name(int layer, const char* rest) { return "model.layers." + std::to_string(layer) + "." + rest; }

// What layer `layer` reads, by name and shape.
struct LayerTensorList {
  std::vector<std::pair<std::string, std::vector<uint64_t>>> list;
  void add(int layer, const char* rest, std::vector<uint64_t> dims) {
    list.emplace_back(layer_name(layer, rest), dims);
  }
};

LayerTensorList layer_tensors(const DecoderShape& s, int l) {
  const uint64_t hidden = s.hidden, q_out = uint64_t(s.heads) * s.head_dim, kv_out = uint64_t(s.kv_heads) * s.head_dim;
  LayerTensorList t;
  t.add(l, "input_layernorm.weight", {hidden});
  t.add(l, "self_attn.q_proj.weight", {q_out, hidden});
  t.add(l, "self_attn.k_proj.weight", {kv_out, hidden});
  t.add(l, "self_attn.v_proj.weight", {kv_out, hidden});
  if (s.qkv_bias) {
    t.add(l, "self_attn.q_proj.bias", {q_out});
    t.add(l, "self_attn.k_proj.bias", {kv_out});
    t.add(l, "self_attn.v_proj.bias", {kv_out});
  }
  if (s.qk_norm) {
    t.add(l, "self_attn.q_norm.weight", {uint64_t(s.head_dim)});
    t.add(l, "self_attn.k_norm.weight", {uint64_t(s.head_dim)});
  }
  t.add(l, "self_attn.o_proj.weight", {hidden, q_out});
  t.add(l, "post_attention_layernorm.weight", {hidden});
  t.add(l, "mlp.gate_proj.weight", {uint64_t(s.intermediate), hidden});
  t.add(l, "mlp.up_proj.weight", {uint64_t(s.intermediate), hidden});
  t.add(l, "mlp.down_proj.weight", {hidden, uint64_t(s.intermediate)});
  return t;
}

// Each token's row of width n through f(row index).
template <typename F>
void per_token(ThreadPool& pool, size_t tokens, const F& f) {
  pool.parallel_for(tokens, [&](size_t t) { f(t); });
}

}  // namespace

const ModelTensor& decoder_tensor(const Model& model, const std::string& name, const std::vector<uint64_t>& dims) {
  const ModelTensor* t = model.find(name);
  if (!t) fail(model.path, name, "is missing: the decoder reads it");
  if (!is_mergeable(t->info.dtype))
    fail(t->source->name(), name,
         std::string("has dtype ") + dtype_name(t->info.dtype) + ", not a float the decoder reads");
  if (t->info.shape != dims)
    fail(t->source->name(), name,
         "has shape " + shape_text(t->info.shape) + " where config.json's sizes make it " + shape_text(dims));
  return *t;
}

void check_layer_tensors(const Model& model, const DecoderShape& shape, int layer) {
  for (const auto& entry : layer_tensors(shape, layer).list) decoder_tensor(model, entry.first, entry.second);
}

void run_layer(const LayerRun& run, int l, std::vector<float>& x) {
  const DecoderShape& s = run.shape;
  const size_t T = run.tokens, hidden = s.hidden, d = s.head_dim;
  const size_t q_out = size_t(s.heads) * d, kv_out = size_t(s.kv_heads) * d;
  auto tensor = [&](const char* rest) -> const ModelTensor& {
    const std::string name = layer_name(l, rest);
    const ModelTensor* t = run.model.find(name);
    if (!t) fail(run.model.path, name, "is missing: the decoder reads it");
    return *t;
  };
  auto project = [&](const char* weight, const float* in, const std::vector<float>& bias, std::vector<float>& out) {
    const ModelTensor& w = tensor(weight);
    out.resize(T * w.info.shape[0]);
    multiply_streamed(w, in, T, bias.empty() ? nullptr : bias.data(), out.data(), run.pool, run.budget);
  };
  const std::vector<float> none;

  // Attention block.
  std::vector<float> h(T * hidden);
  {
    const std::vector<float> norm = read_vector(tensor("input_layernorm.weight"));
    per_token(run.pool, T, [&](size_t t) { rms_norm(&x[t * hidden], norm.data(), hidden, s.rms_eps, &h[t * hidden]); });
  }
  std::vector<float> q, k, v;
  project("self_attn.q_proj.weight", h.data(), s.qkv_bias ? read_vector(tensor("self_attn.q_proj.bias")) : none, q);
  project("self_attn.k_proj.weight", h.data(), s.qkv_bias ? read_vector(tensor("self_attn.k_proj.bias")) : none, k);
  project("self_attn.v_proj.weight", h.data(), s.qkv_bias ? read_vector(tensor("self_attn.v_proj.bias")) : none, v);
  {
    // Qwen3 normalizes each head of q and k before the rotation.
    std::vector<float> q_norm, k_norm;
    if (s.qk_norm) {
      q_norm = read_vector(tensor("self_attn.q_norm.weight"));
      k_norm = read_vector(tensor("self_attn.k_norm.weight"));
    }
    std::vector<size_t> position(T);
    for (const auto& seq : run.sequences)
      for (size_t i = 0; i < seq.length; ++i) position[seq.first + i] = i;
    per_token(run.pool, T, [&](size_t t) {
      std::vector<float> scratch(d);
      // Token t's heads of q or k: each normalized (Qwen3), then rotated.
      auto rotate_heads = [&](float* row, int heads, const std::vector<float>& norm) {
        for (int head = 0; head < heads; ++head) {
          float* x = row + size_t(head) * d;
          if (s.qk_norm) {
            rms_norm(x, norm.data(), d, s.rms_eps, scratch.data());
            std::copy(scratch.begin(), scratch.end(), x);
          }
          run.rope.apply(x, position[t]);
        }
      };
      rotate_heads(&q[t * q_out], s.heads, q_norm);
      rotate_heads(&k[t * kv_out], s.kv_heads, k_norm);
    });
  }
  std::vector<float> attended(T * q_out);
  causal_attention(s, run.sequences, q.data(), k.data(), v.data(), attended.data(), run.pool);
  q = std::vector<float>();
  k = std::vector<float>();
  v = std::vector<float>();
  project("self_attn.o_proj.weight", attended.data(), none, h);
  attended = std::vector<float>();
  add_into(x.data(), h.data(), x.size());

  // MLP block: down(silu(gate(h))·up(h)).
  {
    const std::vector<float> norm = read_vector(tensor("post_attention_layernorm.weight"));
    per_token(run.pool, T, [&](size_t t) { rms_norm(&x[t * hidden], norm.data(), hidden, s.rms_eps, &h[t * hidden]); });
  }
  std::vector<float> gate, up;
  project("mlp.gate_proj.weight", h.data(), none, gate);
  project("mlp.up_proj.weight", h.data(), none, up);
  const size_t inter = s.intermediate;
  per_token(run.pool, T, [&](size_t t) { silu_times(&gate[t * inter], &up[t * inter], inter); });
  up = std::vector<float>();
  project("mlp.down_proj.weight", gate.data(), none, h);
  add_into(x.data(), h.data(), x.size());
}

}  // namespace decoder
}  // namespace wasmerge
