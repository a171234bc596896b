#include "decoder/decoder_layer.hpp"

#include "decoder/layer_ops.hpp"
#include "decoder/moe_mlp.hpp"
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

// One SwiGLU MLP's tensors (after "model.layers.N.") and width: down(silu(gate(x))·up(x)).
struct Swiglu {
  std::string gate, up, down;
  int width;
};

Swiglu swiglu_named(const std::string& prefix, const char* gate, const char* up, const char* down, int width) {
  return Swiglu{prefix + gate, prefix + up, prefix + down, width};
}

// Layer l's MLPs: the dense one; or every expert in order, then Qwen2-MoE's shared expert.
std::vector<Swiglu> layer_mlps(const DecoderShape& s, int l) {
  if (!s.sparse_layer(l))
    return {swiglu_named("mlp.", "gate_proj.weight", "up_proj.weight", "down_proj.weight", s.intermediate)};
  std::vector<Swiglu> out;
  for (int e = 0; e < s.experts; ++e) {
    if (s.model_type == "mixtral")
      out.push_back(swiglu_named("block_sparse_moe.experts." + std::to_string(e) + ".", "w1.weight", "w3.weight",
                                 "w2.weight", s.intermediate));
    else
      out.push_back(swiglu_named("mlp.experts." + std::to_string(e) + ".", "gate_proj.weight", "up_proj.weight",
                                 "down_proj.weight", s.moe_intermediate));
  }
  if (s.shared_intermediate)
    out.push_back(swiglu_named("mlp.shared_expert.", "gate_proj.weight", "up_proj.weight", "down_proj.weight",
                               s.shared_intermediate));
  return out;
}

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
  for (const Swiglu& mlp : layer_mlps(s, l)) {
    t.add(l, mlp.gate.c_str(), {uint64_t(mlp.width), hidden});
    t.add(l, mlp.up.c_str(), {uint64_t(mlp.width), hidden});
    t.add(l, mlp.down.c_str(), {hidden, uint64_t(mlp.width)});
  }
  if (s.sparse_layer(l)) {
    t.add(l, s.model_type == "mixtral" ? "block_sparse_moe.gate.weight" : "mlp.gate.weight",
          {uint64_t(s.experts), hidden});
    if (s.shared_intermediate) t.add(l, "mlp.shared_expert_gate.weight", {1, hidden});
  }
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
  // The rows of `in` (n of them) through one SwiGLU MLP into out [n, hidden].
  auto swiglu = [&](const Swiglu& mlp, const float* in, size_t n, std::vector<float>& out) {
    auto multiply = [&](const std::string& rest, const float* rows, std::vector<float>& y) {
      const ModelTensor& w = tensor(rest.c_str());
      y.resize(n * w.info.shape[0]);
      multiply_streamed(w, rows, n, nullptr, y.data(), run.pool, run.budget);
    };
    std::vector<float> gate, up;
    multiply(mlp.gate, in, gate);
    multiply(mlp.up, in, up);
    const size_t inter = mlp.width;
    per_token(run.pool, n, [&](size_t t) { silu_times(&gate[t * inter], &up[t * inter], inter); });
    up = std::vector<float>();
    multiply(mlp.down, gate.data(), out);
  };
  const std::vector<Swiglu> mlps = layer_mlps(s, l);
  if (!s.sparse_layer(l)) {
    swiglu(mlps[0], h.data(), T, h);
  } else {
    moe_mlp(run, l, h, [&](int expert, const float* in, size_t n, std::vector<float>& out) {
      swiglu(mlps[size_t(expert)], in, n, out);
    });
  }
  add_into(x.data(), h.data(), x.size());
}

}  // namespace decoder
}  // namespace wasmerge
