#include "reference_decoder.hpp"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <numeric>
#include <stdexcept>

namespace test {
namespace {

using Vec = std::vector<double>;
using nlohmann::json;

struct Config {
  std::string type;
  int layers, hidden, heads, kv_heads, head_dim;
  double eps, theta;
  std::string rope_type = "default";
  double factor = 1, low = 1, high = 4, original = 8192;
  bool tie, bias, qk_norm;
  size_t window = 0;
  // MoE
  int experts = 0, top_k = 0, sparse_step = 1;
  std::vector<int> mlp_only_layers;
  bool norm_topk = false;
};

Config parse(const std::string& text) {
  const json j = json::parse(text);
  Config c;
  c.type = j.at("model_type").get<std::string>();
  c.layers = j.at("num_hidden_layers");
  c.hidden = j.at("hidden_size");
  c.heads = j.at("num_attention_heads");
  c.kv_heads = j.value("num_key_value_heads", c.heads);
  c.head_dim = j.contains("head_dim") && !j["head_dim"].is_null() ? j["head_dim"].get<int>() : c.hidden / c.heads;
  c.eps = j.value("rms_norm_eps", 1e-6);
  c.theta = j.value("rope_theta", 10000.0);
  if (j.contains("rope_scaling") && !j["rope_scaling"].is_null()) {
    const json& r = j["rope_scaling"];
    c.rope_type = r.contains("rope_type") ? r["rope_type"].get<std::string>() : r.value("type", std::string("default"));
    c.factor = r.value("factor", 1.0);
    c.low = r.value("low_freq_factor", 1.0);
    c.high = r.value("high_freq_factor", 4.0);
    c.original = r.value("original_max_position_embeddings", 8192.0);
  }
  c.tie = j.value("tie_word_embeddings", false);
  const bool qwen2_family = c.type == "qwen2" || c.type == "qwen2_moe";
  c.bias = qwen2_family || (c.type != "mistral" && c.type != "mixtral" && j.value("attention_bias", false));
  c.qk_norm = c.type == "qwen3" || c.type == "qwen3_moe";
  if ((c.type == "mistral" || c.type == "mixtral") && j.contains("sliding_window") && !j["sliding_window"].is_null())
    c.window = j["sliding_window"].get<size_t>();
  if (c.type == "mixtral") c.experts = j.at("num_local_experts");
  if (c.type == "qwen2_moe" || c.type == "qwen3_moe") {
    c.experts = j.at("num_experts");
    c.sparse_step = j.value("decoder_sparse_step", 1);
    c.mlp_only_layers = j.value("mlp_only_layers", std::vector<int>());
    c.norm_topk = j.value("norm_topk_prob", false);
  }
  if (c.experts) c.top_k = j.at("num_experts_per_tok");
  return c;
}

const RefTensor& get(const RefTensors& t, const std::string& name) {
  auto it = t.find(name);
  if (it == t.end()) throw std::runtime_error("reference: missing tensor " + name);
  return it->second;
}

// x [n][in] · W[out][in]ᵀ (+ b) -> [n][out]
Vec linear(const Vec& x, size_t n, const RefTensor& w, const RefTensor* b = nullptr) {
  const size_t out = w.shape[0], in = w.shape[1];
  Vec y(n * out);
  for (size_t t = 0; t < n; ++t)
    for (size_t o = 0; o < out; ++o) {
      double s = b ? b->values[o] : 0.0;
      for (size_t i = 0; i < in; ++i) s += x[t * in + i] * w.values[o * in + i];
      y[t * out + o] = s;
    }
  return y;
}

// RMSNorm over rows of width `width` (x may be a head slice: stride given).
void rms_norm_rows(Vec& x, size_t rows, size_t width, const RefTensor& w, double eps) {
  for (size_t r = 0; r < rows; ++r) {
    double ms = 0;
    for (size_t i = 0; i < width; ++i) ms += x[r * width + i] * x[r * width + i];
    const double inv = 1.0 / std::sqrt(ms / width + eps);
    for (size_t i = 0; i < width; ++i) x[r * width + i] = w.values[i] * (x[r * width + i] * inv);
  }
}

double silu(double v) { return v / (1.0 + std::exp(-v)); }

// SwiGLU MLP from three weights.
Vec swiglu(const Vec& x, size_t n, const RefTensor& gate, const RefTensor& up, const RefTensor& down) {
  Vec g = linear(x, n, gate), u = linear(x, n, up);
  for (size_t i = 0; i < g.size(); ++i) g[i] = silu(g[i]) * u[i];
  return linear(g, n, down);
}

Vec inverse_frequencies(const Config& c) {
  const int half = c.head_dim / 2;
  Vec inv(half);
  for (int i = 0; i < half; ++i) inv[i] = 1.0 / std::pow(c.theta, (2.0 * i) / c.head_dim);
  if (c.rope_type == "linear")
    for (double& f : inv) f /= c.factor;
  if (c.rope_type == "llama3") {
    // transformers' _compute_llama3_parameters, element by element.
    const double low_wavelen = c.original / c.low, high_wavelen = c.original / c.high;
    for (double& f : inv) {
      const double wavelen = 2 * M_PI / f;
      double llama = wavelen > low_wavelen ? f / c.factor : f;
      const double smooth = (c.original / wavelen - c.low) / (c.high - c.low);
      const double smoothed = (1 - smooth) * llama / c.factor + smooth * llama;
      const bool medium = !(wavelen < high_wavelen) && !(wavelen > low_wavelen);
      f = medium ? smoothed : llama;
    }
  }
  return inv;
}

// x * cos + rotate_half(x) * sin on each head of `heads` in row t.
void rope(Vec& x, size_t row, int heads, int head_dim, size_t position, const Vec& inv) {
  const int half = head_dim / 2;
  for (int h = 0; h < heads; ++h) {
    double* v = &x[(row * heads + h) * head_dim];
    Vec rotated(head_dim);
    for (int i = 0; i < head_dim; ++i) {
      const double angle = position * inv[i % half];
      const double rot = i < half ? -v[i + half] : v[i - half];
      rotated[i] = v[i] * std::cos(angle) + rot * std::sin(angle);
    }
    std::copy(rotated.begin(), rotated.end(), v);
  }
}

// Router weights for one token: softmax over experts, top-k (ties: lower index), optionally
// renormalized; returns (expert, weight) pairs.
std::vector<std::pair<int, double>> route(const double* logits, int experts, int k, bool normalize) {
  double max = *std::max_element(logits, logits + experts);
  Vec p(experts);
  double sum = 0;
  for (int e = 0; e < experts; ++e) sum += p[e] = std::exp(logits[e] - max);
  for (double& v : p) v /= sum;
  std::vector<int> order(experts);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return p[a] > p[b]; });
  std::vector<std::pair<int, double>> chosen;
  double total = 0;
  for (int i = 0; i < k; ++i) {
    chosen.emplace_back(order[i], p[order[i]]);
    total += p[order[i]];
  }
  if (normalize)
    for (auto& c : chosen) c.second /= total;
  return chosen;
}

Vec moe_mlp(const Config& c, const RefTensors& t, int l, const Vec& x, size_t n) {
  const std::string p = "model.layers." + std::to_string(l) + ".";
  const size_t hidden = c.hidden;
  if (c.type == "mixtral") {
    const Vec logits = linear(x, n, get(t, p + "block_sparse_moe.gate.weight"));
    Vec out(n * hidden, 0.0);
    for (size_t tok = 0; tok < n; ++tok) {
      const Vec xt(x.begin() + tok * hidden, x.begin() + (tok + 1) * hidden);
      for (const auto& ew : route(&logits[tok * c.experts], c.experts, c.top_k, true)) {
        const std::string e = p + "block_sparse_moe.experts." + std::to_string(ew.first) + ".";
        const Vec y = swiglu(xt, 1, get(t, e + "w1.weight"), get(t, e + "w3.weight"), get(t, e + "w2.weight"));
        for (size_t i = 0; i < hidden; ++i) out[tok * hidden + i] += ew.second * y[i];
      }
    }
    return out;
  }
  // Qwen2-MoE / Qwen3-MoE: sparse on layers (l+1) % decoder_sparse_step == 0 outside mlp_only_layers.
  const bool sparse = std::find(c.mlp_only_layers.begin(), c.mlp_only_layers.end(), l) == c.mlp_only_layers.end() &&
                      c.experts > 0 && (l + 1) % c.sparse_step == 0;
  if (!sparse)
    return swiglu(x, n, get(t, p + "mlp.gate_proj.weight"), get(t, p + "mlp.up_proj.weight"),
                  get(t, p + "mlp.down_proj.weight"));
  const Vec logits = linear(x, n, get(t, p + "mlp.gate.weight"));
  Vec out(n * hidden, 0.0);
  for (size_t tok = 0; tok < n; ++tok) {
    const Vec xt(x.begin() + tok * hidden, x.begin() + (tok + 1) * hidden);
    for (const auto& ew : route(&logits[tok * c.experts], c.experts, c.top_k, c.norm_topk)) {
      const std::string e = p + "mlp.experts." + std::to_string(ew.first) + ".";
      const Vec y =
          swiglu(xt, 1, get(t, e + "gate_proj.weight"), get(t, e + "up_proj.weight"), get(t, e + "down_proj.weight"));
      for (size_t i = 0; i < hidden; ++i) out[tok * hidden + i] += ew.second * y[i];
    }
    if (c.type == "qwen2_moe") {
      const std::string s = p + "mlp.shared_expert.";
      const Vec y =
          swiglu(xt, 1, get(t, s + "gate_proj.weight"), get(t, s + "up_proj.weight"), get(t, s + "down_proj.weight"));
      const double g = linear(xt, 1, get(t, p + "mlp.shared_expert_gate.weight"))[0];
      const double sigmoid = 1.0 / (1.0 + std::exp(-g));
      for (size_t i = 0; i < hidden; ++i) out[tok * hidden + i] += sigmoid * y[i];
    }
  }
  return out;
}

// One sequence through every layer; states[l] appended per layer.
void run_sequence(const Config& c, const RefTensors& t, const std::vector<int32_t>& ids,
                  std::vector<std::vector<double>>& states) {
  const size_t n = ids.size(), hidden = c.hidden, d = c.head_dim;
  const RefTensor& embed = get(t, "model.embed_tokens.weight");
  Vec x(n * hidden);
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < hidden; ++j) x[i * hidden + j] = embed.values.at(size_t(ids[i]) * hidden + j);
  const Vec inv = inverse_frequencies(c);
  const int group = c.heads / c.kv_heads;
  auto record = [&](int l) { states[l].insert(states[l].end(), x.begin(), x.end()); };
  record(0);
  for (int l = 0; l < c.layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    Vec h = x;
    rms_norm_rows(h, n, hidden, get(t, p + "input_layernorm.weight"), c.eps);
    auto bias = [&](const char* which) { return c.bias ? &get(t, p + "self_attn." + which + "_proj.bias") : nullptr; };
    Vec q = linear(h, n, get(t, p + "self_attn.q_proj.weight"), bias("q"));
    Vec k = linear(h, n, get(t, p + "self_attn.k_proj.weight"), bias("k"));
    Vec v = linear(h, n, get(t, p + "self_attn.v_proj.weight"), bias("v"));
    if (c.qk_norm) {
      rms_norm_rows(q, n * c.heads, d, get(t, p + "self_attn.q_norm.weight"), c.eps);
      rms_norm_rows(k, n * c.kv_heads, d, get(t, p + "self_attn.k_norm.weight"), c.eps);
    }
    for (size_t i = 0; i < n; ++i) {
      rope(q, i, c.heads, c.head_dim, i, inv);
      rope(k, i, c.kv_heads, c.head_dim, i, inv);
    }
    Vec attended(n * c.heads * d, 0.0);
    for (int head = 0; head < c.heads; ++head) {
      const int g = head / group;
      for (size_t i = 0; i < n; ++i) {
        Vec w(n, -INFINITY);
        double max = -INFINITY;
        for (size_t j = 0; j <= i; ++j) {
          if (c.window && i - j >= c.window) continue;
          double s = 0;
          for (size_t e = 0; e < d; ++e) s += q[(i * c.heads + head) * d + e] * k[(j * c.kv_heads + g) * d + e];
          w[j] = s / std::sqrt(double(d));
          max = std::max(max, w[j]);
        }
        double sum = 0;
        for (size_t j = 0; j <= i; ++j) sum += w[j] = std::exp(w[j] - max);
        for (size_t j = 0; j <= i; ++j)
          for (size_t e = 0; e < d; ++e)
            attended[(i * c.heads + head) * d + e] += w[j] / sum * v[(j * c.kv_heads + g) * d + e];
      }
    }
    const Vec o = linear(attended, n, get(t, p + "self_attn.o_proj.weight"));
    for (size_t i = 0; i < x.size(); ++i) x[i] += o[i];
    h = x;
    rms_norm_rows(h, n, hidden, get(t, p + "post_attention_layernorm.weight"), c.eps);
    const Vec m = c.experts ? moe_mlp(c, t, l, h, n)
                            : swiglu(h, n, get(t, p + "mlp.gate_proj.weight"), get(t, p + "mlp.up_proj.weight"),
                                     get(t, p + "mlp.down_proj.weight"));
    for (size_t i = 0; i < x.size(); ++i) x[i] += m[i];
    record(l + 1);
  }
}

}  // namespace

std::vector<std::vector<double>> reference_hidden_states(const std::string& config_json, const RefTensors& tensors,
                                                         const std::vector<std::vector<int32_t>>& sequences) {
  const Config c = parse(config_json);
  std::vector<std::vector<double>> states(c.layers + 1);
  for (const auto& seq : sequences) run_sequence(c, tensors, seq, states);
  return states;
}

std::vector<double> reference_logits(const std::string& config_json, const RefTensors& tensors,
                                     const std::vector<std::vector<int32_t>>& sequences) {
  const Config c = parse(config_json);
  Vec x = reference_hidden_states(config_json, tensors, sequences).back();
  const size_t n = x.size() / c.hidden;
  rms_norm_rows(x, n, c.hidden, get(tensors, "model.norm.weight"), c.eps);
  return linear(x, n, get(tensors, c.tie ? "model.embed_tokens.weight" : "lm_head.weight"));
}

}  // namespace test
