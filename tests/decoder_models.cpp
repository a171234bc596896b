// Small random decoders for the tests: tests/decoder_models.hpp.
#include "decoder_models.hpp"

namespace test {
namespace {

// Values from mt19937's raw output (the distributions differ between standard libraries,
// and the bit-identity test needs the same model in every build), on the dtype's grid.
std::vector<double> grid_values(const std::string& dtype, size_t n, std::mt19937& rng, double center, double scale) {
  std::vector<double> out(n);
  for (auto& v : out) {
    double x = center + scale * ((static_cast<int>(rng() % 2001) - 1000) / 1000.0);
    int e;
    const double frac = std::frexp(x, &e);
    const int bits = dtype == "BF16" ? 8 : 24;
    v = std::ldexp(std::round(std::ldexp(frac, bits)), e - bits);
  }
  return out;
}

void add(TestModel& m, std::mt19937& rng, const std::string& name, std::vector<uint64_t> shape, double center,
         double scale) {
  size_t n = 1;
  for (auto d : shape) n *= d;
  m.tensors[name] = test::RefTensor{shape, grid_values(m.dtype, n, rng, center, scale)};
  m.order.push_back(name);
}

}  // namespace

// A dense decoder with random weights of the shapes config.json gives: projections scaled
// by 1/√in so activations stay of order 1, norms around 1, biases small.
TestModel random_decoder(const std::string& config, const std::string& dtype, uint32_t seed) {
  const auto j = nlohmann::json::parse(config);
  TestModel m{config, dtype, {}, {}};
  std::mt19937 rng(seed);
  const uint64_t hidden = j["hidden_size"], inter = j["intermediate_size"], vocab = j["vocab_size"];
  const uint64_t heads = j["num_attention_heads"], kv = j.value("num_key_value_heads", heads);
  const uint64_t d = j.contains("head_dim") ? j["head_dim"].get<uint64_t>() : hidden / heads;
  const std::string type = j["model_type"];
  const bool bias = type == "qwen2" || j.value("attention_bias", false);
  auto w = [&](const std::string& name, uint64_t out, uint64_t in) {
    add(m, rng, name, {out, in}, 0, 1.7 / std::sqrt(double(in)));
  };
  add(m, rng, "model.embed_tokens.weight", {vocab, hidden}, 0, 1.0);
  for (int l = 0; l < j["num_hidden_layers"].get<int>(); ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    add(m, rng, p + "input_layernorm.weight", {hidden}, 1, 0.3);
    w(p + "self_attn.q_proj.weight", heads * d, hidden);
    w(p + "self_attn.k_proj.weight", kv * d, hidden);
    w(p + "self_attn.v_proj.weight", kv * d, hidden);
    if (bias) {
      add(m, rng, p + "self_attn.q_proj.bias", {heads * d}, 0, 0.5);
      add(m, rng, p + "self_attn.k_proj.bias", {kv * d}, 0, 0.5);
      add(m, rng, p + "self_attn.v_proj.bias", {kv * d}, 0, 0.5);
    }
    if (type == "qwen3") {
      add(m, rng, p + "self_attn.q_norm.weight", {d}, 1, 0.3);
      add(m, rng, p + "self_attn.k_norm.weight", {d}, 1, 0.3);
    }
    w(p + "self_attn.o_proj.weight", hidden, heads * d);
    add(m, rng, p + "post_attention_layernorm.weight", {hidden}, 1, 0.3);
    w(p + "mlp.gate_proj.weight", inter, hidden);
    w(p + "mlp.up_proj.weight", inter, hidden);
    w(p + "mlp.down_proj.weight", hidden, inter);
  }
  add(m, rng, "model.norm.weight", {hidden}, 1, 0.3);
  if (!j.value("tie_word_embeddings", false)) w("lm_head.weight", vocab, hidden);
  return m;
}

MemoryInputs files_of(const TestModel& m, const std::string& skip, const std::string& file) {
  std::vector<test::TestTensor> list;
  for (const auto& name : m.order)
    if (name != skip) {
      const auto& t = m.tensors.at(name);
      list.push_back(test::TestTensor{name, m.dtype, t.shape, test::encode(m.dtype, t.values)});
    }
  MemoryInputs files;
  files.add(file, test::safetensors_file(list));
  return files;
}

std::vector<std::vector<int32_t>> random_sequences(const std::vector<size_t>& lengths, int vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::vector<int32_t>> out;
  for (size_t n : lengths) {
    out.emplace_back(n);
    for (auto& id : out.back()) id = static_cast<int32_t>(rng() % vocab);
  }
  return out;
}

const char* const kLlama = R"({"model_type":"llama","num_hidden_layers":2,"hidden_size":64,"intermediate_size":96,
  "num_attention_heads":4,"num_key_value_heads":2,"vocab_size":50,"rms_norm_eps":1e-5,"rope_theta":500000.0,
  "rope_scaling":{"rope_type":"llama3","factor":8.0,"low_freq_factor":1.0,"high_freq_factor":4.0,
  "original_max_position_embeddings":64},"max_position_embeddings":1024,"tie_word_embeddings":false})";
const char* const kLlamaBiasLinear =
    R"({"model_type":"llama","num_hidden_layers":2,"hidden_size":32,"intermediate_size":48,
  "num_attention_heads":2,"vocab_size":40,"rms_norm_eps":1e-6,"rope_theta":10000,"attention_bias":true,
  "rope_scaling":{"type":"linear","factor":2.0},"max_position_embeddings":64})";
const char* const kMistral = R"({"model_type":"mistral","num_hidden_layers":2,"hidden_size":48,"intermediate_size":80,
  "num_attention_heads":4,"num_key_value_heads":4,"vocab_size":37,"rms_norm_eps":1e-5,"rope_theta":1000000.0,
  "sliding_window":5,"max_position_embeddings":256})";
const char* const kQwen2 = R"({"model_type":"qwen2","num_hidden_layers":3,"hidden_size":64,"intermediate_size":112,
  "num_attention_heads":4,"num_key_value_heads":1,"vocab_size":45,"rms_norm_eps":1e-6,"rope_theta":1000000.0,
  "rope_scaling":null,"tie_word_embeddings":true,"use_sliding_window":false,"sliding_window":4,
  "max_position_embeddings":512})";
const char* const kQwen3 = R"({"model_type":"qwen3","num_hidden_layers":2,"hidden_size":64,"intermediate_size":96,
  "num_attention_heads":4,"num_key_value_heads":2,"head_dim":24,"vocab_size":41,"rms_norm_eps":1e-6,
  "rope_theta":1000000,"attention_bias":false,"tie_word_embeddings":true,"max_position_embeddings":512})";

int vocab_of(const std::string& config) { return nlohmann::json::parse(config)["vocab_size"]; }

TestModel random_moe(const std::string& dense_config, const std::string& type, int experts, const std::string& dtype,
                     uint32_t seed) {
  const TestModel dense = random_decoder(dense_config, dtype, seed);
  auto config = nlohmann::json::parse(dense_config);
  config["model_type"] = type;
  config["num_experts_per_tok"] = 2;
  const uint64_t hidden = config["hidden_size"], inter = config["intermediate_size"];
  if (type == "mixtral") {
    config["num_local_experts"] = experts;
  } else {
    config["num_experts"] = experts;
    config["norm_topk_prob"] = type == "qwen3_moe";  // Qwen2-MoE's default false: weights not renormalized
    config["moe_intermediate_size"] = inter / 2;
    if (type == "qwen2_moe") config["shared_expert_intermediate_size"] = inter;
  }
  TestModel m{config.dump(), dtype, {}, {}};
  std::mt19937 rng(seed + 1000);
  auto mlp = [&](const std::string& p, const char* g, const char* u, const char* d, uint64_t width) {
    add(m, rng, p + g, {width, hidden}, 0, 1.7 / std::sqrt(double(hidden)));
    add(m, rng, p + u, {width, hidden}, 0, 1.7 / std::sqrt(double(hidden)));
    add(m, rng, p + d, {hidden, width}, 0, 1.7 / std::sqrt(double(width)));
  };
  for (const auto& name : dense.order) {
    const auto at = name.find(".mlp.");
    if (at == std::string::npos) {
      m.tensors[name] = dense.tensors.at(name);
      m.order.push_back(name);
      continue;
    }
    if (name.substr(at + 5) != "gate_proj.weight") continue;  // one layer's MoE, made once
    const std::string layer = name.substr(0, at + 1);
    const std::string router = type == "mixtral" ? "block_sparse_moe.gate.weight" : "mlp.gate.weight";
    add(m, rng, layer + router, {uint64_t(experts), hidden}, 0, 2.0 / std::sqrt(double(hidden)));
    for (int e = 0; e < experts; ++e) {
      const std::string es = std::to_string(e);
      if (type == "mixtral")
        mlp(layer + "block_sparse_moe.experts." + es + ".", "w1.weight", "w3.weight", "w2.weight", inter);
      else
        mlp(layer + "mlp.experts." + es + ".", "gate_proj.weight", "up_proj.weight", "down_proj.weight", inter / 2);
    }
    if (type == "qwen2_moe") {
      mlp(layer + "mlp.shared_expert.", "gate_proj.weight", "up_proj.weight", "down_proj.weight", inter);
      add(m, rng, layer + "mlp.shared_expert_gate.weight", {1, hidden}, 0, 1.0 / std::sqrt(double(hidden)));
    }
  }
  return m;
}

}  // namespace test
