// Sparse upcycling (SPEC §7): the output's tensor names and shapes written out here by hand
// for a two-layer model, each expert's bytes against its source, routers against a
// test-side counter generator (std::log and std::cos, in f64), cheap_embed routers against
// sums of the embedding rows, hidden routers against the test's f64 forward pass
// (reference_decoder), config.json's keys, and every config error; an upcycled model whose
// experts are all the base computes the base's logits (the reference forward pass of both).
#include <doctest/doctest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "lora_builder.hpp"
#include "reference_decoder.hpp"
#include "support.hpp"
#include "wasmerge/error.hpp"
#include "wasmerge/merge.hpp"

using namespace wasmerge;
using test::Bytes;
using json = nlohmann::json;

namespace {

constexpr int kLayers = 2, kHidden = 8, kIntermediate = 12, kVocab = 16;

struct TensorSpec {
  std::string name;
  std::vector<uint64_t> shape;
};

// A llama-shaped model's tensors; qwen2 adds q/k/v biases, qwen3 q/k norms.
std::vector<TensorSpec> dense_layout(const std::string& model_type) {
  const bool qkv_bias = model_type == "qwen2";
  std::vector<TensorSpec> l = {{"model.embed_tokens.weight", {kVocab, kHidden}}};
  for (int i = 0; i < kLayers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    l.push_back({p + "input_layernorm.weight", {kHidden}});
    for (const char* m : {"q", "k", "v"}) {
      const uint64_t out = std::string(m) == "q" ? kHidden : kHidden / 2;
      l.push_back({p + "self_attn." + m + "_proj.weight", {out, kHidden}});
      if (qkv_bias) l.push_back({p + "self_attn." + m + "_proj.bias", {out}});
    }
    if (model_type == "qwen3") {
      l.push_back({p + "self_attn.q_norm.weight", {kHidden / 2}});
      l.push_back({p + "self_attn.k_norm.weight", {kHidden / 2}});
    }
    l.push_back({p + "self_attn.o_proj.weight", {kHidden, kHidden}});
    l.push_back({p + "post_attention_layernorm.weight", {kHidden}});
    l.push_back({p + "mlp.gate_proj.weight", {kIntermediate, kHidden}});
    l.push_back({p + "mlp.up_proj.weight", {kIntermediate, kHidden}});
    l.push_back({p + "mlp.down_proj.weight", {kHidden, kIntermediate}});
  }
  l.push_back({"model.norm.weight", {kHidden}});
  l.push_back({"lm_head.weight", {kVocab, kHidden}});
  return l;
}

size_t count(const std::vector<uint64_t>& shape) {
  size_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

// Model `seed`'s values of a tensor: distinct per model and tensor, exact in BF16.
std::vector<double> values_of(int seed, const std::string& name, size_t n) {
  return test::random_values("BF16", n, static_cast<uint32_t>(seed * 1000 + std::hash<std::string>()(name) % 997));
}

std::string config_json(const std::string& model_type) {
  json c = {{"architectures", {"LlamaForCausalLM"}},
            {"model_type", model_type},
            {"num_hidden_layers", kLayers},
            {"hidden_size", kHidden},
            {"intermediate_size", kIntermediate},
            {"num_attention_heads", 2},
            {"num_key_value_heads", 1},
            {"vocab_size", kVocab},
            {"rms_norm_eps", 1e-6},
            {"torch_dtype", "bfloat16"},
            {"sliding_window", 4096}};
  return c.dump();
}

void add_model(test::MemoryInputs& files, const std::string& folder, int seed, const std::string& model_type = "llama",
               const std::string& dtype = "BF16", bool tokenizer = true) {
  std::vector<test::TestTensor> tensors;
  for (const TensorSpec& t : dense_layout(model_type))
    tensors.push_back({t.name, dtype, t.shape, test::encode(dtype, values_of(seed, t.name, count(t.shape)))});
  files.add(folder + "/model.safetensors", test::safetensors_file(tensors));
  files.add_text(folder + "/config.json", config_json(model_type));
  if (tokenizer) files.add_text(folder + "/tokenizer.json", R"({"model":{"type":"WordLevel","vocab":{}}})");
}

struct Upcycled {
  test::MemoryOutputs out;
  std::map<std::string, test::DecodedTensor> tensors;
  json config;
  std::vector<std::string> order;  // tensor names in the dry run's order
  std::vector<std::string> warnings;
};

Upcycled upcycle(test::MemoryInputs& files, const json& config, MergeOptions options = {}) {
  Upcycled u;
  options.config_text = config.dump();
  auto warn = [&](const std::string& w) { u.warnings.push_back(w); };
  run_merge(config.dump(), options, files, u.out, {}, warn);
  u.tensors = test::decode_file(u.out.committed.at("model.safetensors"));
  u.config = json::parse(u.out.text("config.json"));
  const json plan = json::parse(plan_merge(config.dump(), options, files));
  for (const auto& t : plan["tensors"]) u.order.push_back(t["name"]);
  return u;
}

// The test's own counter generator, from SPEC §7's formulas with libm.
uint64_t mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}
uint64_t stream_of(uint64_t seed, const std::string& name) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : name) h = (h ^ c) * 1099511628211ull;
  return mix(seed ^ mix(h));
}
double uniform(uint64_t s, uint64_t i) { return (static_cast<double>(mix(s + i) >> 11) + 0.5) / 9007199254740992.0; }
double normal(uint64_t s, uint64_t i) {
  return std::sqrt(-2.0 * std::log(uniform(s, 2 * i))) * std::cos(2.0 * M_PI * uniform(s, 2 * i + 1));
}

void check_close(const std::vector<double>& got, const std::vector<double>& want, double rel) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) CHECK(std::abs(got[i] - want[i]) <= rel * std::abs(want[i]) + 1e-12);
}

std::vector<double> source(int seed, const std::string& name) {
  for (const char* type : {"llama", "qwen2", "qwen3"})
    for (const TensorSpec& t : dense_layout(type))
      if (t.name == name) return values_of(seed, name, count(t.shape));
  FAIL("no tensor " << name);
  return {};
}

json two_experts(const std::string& gate_mode) {
  return {{"base_model", "base"},
          {"gate_mode", gate_mode},
          {"experts", {{{"source_model", "code"}}, {{"source_model", "math"}}}}};
}

test::MemoryInputs three_models(const std::string& model_type = "llama") {
  test::MemoryInputs files;
  add_model(files, "base", 0, model_type);
  add_model(files, "code", 1, model_type);
  add_model(files, "math", 2, model_type);
  return files;
}

std::string error_of(test::MemoryInputs& files, const json& config, MergeOptions options = {}) {
  test::MemoryOutputs out;
  try {
    run_merge(config.dump(), options, files, out);
  } catch (const MergeError& e) {
    CHECK(out.committed.empty());
    return e.what();
  }
  FAIL("no error for " << config.dump());
  return "";
}

}  // namespace

TEST_CASE("moe: Mixtral from a llama base: names, order, experts' bytes, random routers, config.json") {
  test::MemoryInputs files = three_models();
  const Upcycled u = upcycle(files, two_experts("random"));
  // Written out by hand: the base's order, each layer's MLP replaced by its router and experts.
  std::vector<std::string> want = {"model.embed_tokens.weight"};
  for (int l = 0; l < kLayers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    for (const char* n :
         {"input_layernorm.weight", "self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight",
          "self_attn.o_proj.weight", "post_attention_layernorm.weight", "block_sparse_moe.gate.weight",
          "block_sparse_moe.experts.0.w1.weight", "block_sparse_moe.experts.0.w3.weight",
          "block_sparse_moe.experts.0.w2.weight", "block_sparse_moe.experts.1.w1.weight",
          "block_sparse_moe.experts.1.w3.weight", "block_sparse_moe.experts.1.w2.weight"})
      want.push_back(p + n);
  }
  want.push_back("model.norm.weight");
  want.push_back("lm_head.weight");
  CHECK(u.order == want);
  REQUIRE(u.tensors.size() == want.size());

  for (int l = 0; l < kLayers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    CHECK(u.tensors.at(p + "self_attn.q_proj.weight").values == source(0, p + "self_attn.q_proj.weight"));
    for (int e = 0; e < 2; ++e) {
      const std::string x = p + "block_sparse_moe.experts." + std::to_string(e) + ".";
      CHECK(u.tensors.at(x + "w1.weight").values == source(e + 1, p + "mlp.gate_proj.weight"));
      CHECK(u.tensors.at(x + "w2.weight").values == source(e + 1, p + "mlp.down_proj.weight"));
      CHECK(u.tensors.at(x + "w3.weight").values == source(e + 1, p + "mlp.up_proj.weight"));
      CHECK(u.tensors.at(x + "w2.weight").shape == std::vector<uint64_t>{kHidden, kIntermediate});
    }
    // N(0, 1) from the router's own name, rounded to the base's bf16.
    const std::string gate = p + "block_sparse_moe.gate.weight";
    const auto& router = u.tensors.at(gate);
    CHECK(router.dtype == "BF16");
    CHECK(router.shape == std::vector<uint64_t>{2, kHidden});
    std::vector<double> want_router;
    const uint64_t s = stream_of(0, gate);
    for (size_t i = 0; i < 2 * kHidden; ++i) want_router.push_back(normal(s, i));
    check_close(router.values, want_router, 1.0 / 128);  // bf16 keeps 8 bits
  }
  CHECK(u.tensors.at("lm_head.weight").values == source(0, "lm_head.weight"));

  CHECK(u.config["architectures"] == json::array({"MixtralForCausalLM"}));
  CHECK(u.config["model_type"] == "mixtral");
  CHECK(u.config["num_local_experts"] == 2);
  CHECK(u.config["num_experts_per_tok"] == 2);
  CHECK(u.config["sliding_window"].is_null());
  CHECK(u.config["hidden_size"] == kHidden);
  CHECK(u.config["intermediate_size"] == kIntermediate);
  CHECK(u.out.committed.count("tokenizer.json"));
  CHECK(u.out.text("README.md").find("Mixtral mixture of experts") != std::string::npos);
}

TEST_CASE("moe: uniform_random routers, a dtype, seeds") {
  test::MemoryInputs files = three_models();
  json c = two_experts("uniform_random");
  c["dtype"] = "float32";
  c["random_seed"] = 7;
  c["experts_per_token"] = 1;
  const Upcycled u = upcycle(files, c);
  const std::string gate = "model.layers.1.block_sparse_moe.gate.weight";
  const auto& router = u.tensors.at(gate);
  CHECK(router.dtype == "F32");
  const uint64_t s = stream_of(7, gate);
  std::vector<double> want;
  for (size_t i = 0; i < 2 * kHidden; ++i) want.push_back((2 * uniform(s, i) - 1) / std::sqrt(double(kHidden)));
  check_close(router.values, want, 1e-6);
  for (double v : router.values) CHECK(std::abs(v) < 1 / std::sqrt(double(kHidden)));
  CHECK(u.tensors.at("model.embed_tokens.weight").dtype == "F32");
  CHECK(u.config["torch_dtype"] == "float32");
  CHECK(u.config["num_experts_per_tok"] == 1);
  // Another seed, other routers; the same seed given as an option overrides the config's.
  MergeOptions options;
  options.random_seed = 8;
  const Upcycled other = upcycle(files, c, options);
  CHECK(other.tensors.at(gate).values != router.values);
}

TEST_CASE("moe: Qwen2-MoE with a shared expert from a llama base gets zero q/k/v biases") {
  test::MemoryInputs files = three_models();
  add_model(files, "chat", 3);
  json c = two_experts("random");
  c["shared_experts"] = {{{"source_model", "chat"}}};
  const Upcycled u = upcycle(files, c);
  const std::string p = "model.layers.0.";
  std::vector<std::string> want_layer = {p + "input_layernorm.weight",
                                         p + "self_attn.q_proj.weight",
                                         p + "self_attn.q_proj.bias",
                                         p + "self_attn.k_proj.weight",
                                         p + "self_attn.k_proj.bias",
                                         p + "self_attn.v_proj.weight",
                                         p + "self_attn.v_proj.bias",
                                         p + "self_attn.o_proj.weight",
                                         p + "post_attention_layernorm.weight",
                                         p + "mlp.gate.weight",
                                         p + "mlp.experts.0.gate_proj.weight",
                                         p + "mlp.experts.0.up_proj.weight",
                                         p + "mlp.experts.0.down_proj.weight",
                                         p + "mlp.experts.1.gate_proj.weight",
                                         p + "mlp.experts.1.up_proj.weight",
                                         p + "mlp.experts.1.down_proj.weight",
                                         p + "mlp.shared_expert.gate_proj.weight",
                                         p + "mlp.shared_expert.up_proj.weight",
                                         p + "mlp.shared_expert.down_proj.weight",
                                         p + "mlp.shared_expert_gate.weight"};
  CHECK(std::vector<std::string>(u.order.begin() + 1, u.order.begin() + 1 + want_layer.size()) == want_layer);
  CHECK(u.tensors.at(p + "self_attn.k_proj.bias").shape == std::vector<uint64_t>{kHidden / 2});
  CHECK(u.tensors.at(p + "self_attn.q_proj.bias").values == std::vector<double>(kHidden, 0.0));
  CHECK(u.tensors.at(p + "mlp.shared_expert.up_proj.weight").values == source(3, p + "mlp.up_proj.weight"));
  CHECK(u.tensors.at(p + "mlp.experts.1.down_proj.weight").values == source(2, p + "mlp.down_proj.weight"));
  CHECK(u.tensors.at(p + "mlp.shared_expert_gate.weight").shape == std::vector<uint64_t>{1, kHidden});
  CHECK(u.config["model_type"] == "qwen2_moe");
  CHECK(u.config["architectures"] == json::array({"Qwen2MoeForCausalLM"}));
  CHECK(u.config["num_experts"] == 2);
  CHECK(u.config["shared_expert_intermediate_size"] == kIntermediate);
  CHECK(u.config["moe_intermediate_size"] == kIntermediate);
  CHECK(u.config["norm_topk_prob"] == true);
  CHECK(u.config["use_sliding_window"] == false);
}

TEST_CASE("moe: Qwen2-MoE keeps a qwen2 base's own biases; Qwen3-MoE from a qwen3 base") {
  {
    test::MemoryInputs files = three_models("qwen2");
    json c = two_experts("random");
    c["shared_experts"] = {{{"source_model", "base"}}};
    const Upcycled u = upcycle(files, c);
    CHECK(u.tensors.at("model.layers.1.self_attn.v_proj.bias").values ==
          source(0, "model.layers.1.self_attn.v_proj.bias"));
    CHECK(std::count(u.order.begin(), u.order.end(), "model.layers.1.self_attn.v_proj.bias") == 1);
  }
  test::MemoryInputs files = three_models("qwen3");
  const Upcycled u = upcycle(files, two_experts("random"));
  CHECK(u.config["model_type"] == "qwen3_moe");
  CHECK(u.config["architectures"] == json::array({"Qwen3MoeForCausalLM"}));
  CHECK(u.config["num_experts"] == 2);
  CHECK(u.config["moe_intermediate_size"] == kIntermediate);
  CHECK(!u.config.contains("shared_expert_intermediate_size"));
  CHECK(u.tensors.count("model.layers.1.mlp.gate.weight"));
  CHECK(u.tensors.at("model.layers.1.mlp.experts.0.down_proj.weight").values ==
        source(1, "model.layers.1.mlp.down_proj.weight"));
  CHECK(!u.tensors.count("model.layers.1.self_attn.q_proj.bias"));
}

TEST_CASE("moe: noise_scale adds the expert's own N(0,1) stream, residual_scale scales down_proj") {
  test::MemoryInputs files;
  add_model(files, "base", 0, "llama", "F32");
  add_model(files, "code", 1, "llama", "F32");
  json c = {{"base_model", "base"},
            {"gate_mode", "random"},
            {"random_seed", 3},
            {"experts",
             {{{"source_model", "base"}}, {{"source_model", "code"}, {"noise_scale", 0.01}, {"residual_scale", 0.5}}}}};
  const Upcycled u = upcycle(files, c);
  for (const char* w : {"w1", "w2"}) {
    const std::string name = std::string("model.layers.1.block_sparse_moe.experts.1.") + w + ".weight";
    const auto x =
        source(1, std::string("model.layers.1.mlp.") + (w == std::string("w1") ? "gate" : "down") + "_proj.weight");
    const uint64_t s = stream_of(3, name);
    std::vector<double> want;
    for (size_t i = 0; i < x.size(); ++i) {
      const float noisy = static_cast<float>(x[i]) + static_cast<float>(normal(s, i) * 0.01);
      want.push_back(w == std::string("w2") ? static_cast<float>(noisy * 0.5f) : noisy);
    }
    check_close(u.tensors.at(name).values, want, 1e-6);
  }
  // Expert 0 is the base, unchanged.
  CHECK(u.tensors.at("model.layers.1.block_sparse_moe.experts.0.w2.weight").values ==
        source(0, "model.layers.1.mlp.down_proj.weight"));
}

TEST_CASE("moe: cheap_embed routers are the normalized sums of the prompts' embedding rows") {
  test::MemoryInputs files = three_models();
  json c = two_experts("cheap_embed");
  c["experts"][0]["positive_prompts"] = {"def f", "import"};
  c["experts"][1]["positive_prompts"] = {"2+2"};
  c["experts"][1]["negative_prompts"] = {"def f"};
  MergeOptions options;
  options.prompt_tokens = {{"def f", {1, 5, 9}}, {"import", {1, 3}}, {"2+2", {1, 7, 7, 2}}};
  const Upcycled u = upcycle(files, c, options);
  const auto embed = source(0, "model.embed_tokens.weight");
  auto f = [&](const std::vector<std::vector<int>>& prompts) {
    std::vector<double> sum(kHidden, 0.0);
    for (const auto& p : prompts)
      for (int t : p)
        for (int i = 0; i < kHidden; ++i) sum[i] += embed[t * kHidden + i];
    double norm = 0;
    for (double x : sum) norm += x * x;
    for (double& x : sum) x /= std::sqrt(norm);
    return sum;
  };
  std::vector<double> want = f({{1, 5, 9}, {1, 3}});
  std::vector<double> second = f({{1, 7, 7, 2}}), negative = f({{1, 5, 9}});
  double norm = 0;
  for (int i = 0; i < kHidden; ++i) norm += std::pow(second[i] - negative[i], 2);
  for (int i = 0; i < kHidden; ++i) want.push_back((second[i] - negative[i]) / std::sqrt(norm));
  for (int l = 0; l < kLayers; ++l)
    check_close(u.tensors.at("model.layers." + std::to_string(l) + ".block_sparse_moe.gate.weight").values, want,
                1.0 / 128);
}

TEST_CASE("moe: the same bytes for any thread count and memory budget") {
  test::MemoryInputs files = three_models();
  json c = two_experts("random");
  c["experts"][1]["noise_scale"] = 0.1;
  MergeOptions one;
  one.threads = 1;
  MergeOptions small;
  small.threads = 3;
  small.memory_mb = 1;
  const Upcycled a = upcycle(files, c, one), b = upcycle(files, c, small);
  CHECK(a.out.committed.at("model.safetensors") == b.out.committed.at("model.safetensors"));
}

TEST_CASE("moe: the dry run names the architecture and the computed tensors") {
  test::MemoryInputs files = three_models();
  const json plan = json::parse(plan_merge(two_experts("random").dump(), {}, files));
  CHECK(plan["moe"]["architecture"] == "Mixtral");
  CHECK(plan["moe"]["gate_mode"] == "random");
  CHECK(plan["config_edits"]["model_type"] == "mixtral");
  bool router_seen = false;
  for (const auto& t : plan["tensors"])
    if (t["name"] == "model.layers.0.block_sparse_moe.gate.weight") {
      router_seen = true;
      CHECK(t["sources"][0]["computed"].get<std::string>().find("random router") != std::string::npos);
    }
  CHECK(router_seen);
}

TEST_CASE("moe: bad configs are one line each and write nothing") {
  test::MemoryInputs files = three_models();
  auto has = [](const std::string& message, const std::string& part) {
    INFO(message);
    CHECK(message.find(part) != std::string::npos);
  };
  json c = two_experts("random");
  c["experts_per_token"] = 3;
  has(error_of(files, c), "experts_per_token 3 is outside [1, 2]");
  has(error_of(files, {{"base_model", "base"}, {"gate_mode", "random"}, {"experts", {{{"source_model", "code"}}}}}),
      "fewer than experts_per_token's default of 2");
  has(error_of(files, two_experts("hidden")), "expert 1 (code) has no positive_prompts");
  has(error_of(files, two_experts("sometimes")), "gate_mode \"sometimes\" is not one of hidden");
  c = two_experts("random");
  c["experts"][0]["weight"] = 1;
  has(error_of(files, c), "expert 1: unknown key 'weight'");
  c = two_experts("cheap_embed");
  c["experts"][0]["positive_prompts"] = {"a"};
  c["experts"][1]["positive_prompts"] = {"a"};
  has(error_of(files, c), "every expert has the same prompts");
  c["experts"][1]["positive_prompts"] = {"b"};
  files.files.erase("base/tokenizer.json");
  has(error_of(files, c), "base: has no tokenizer.json, which gate_mode 'cheap_embed' needs");
  add_model(files, "wide", 4);
  {  // an expert whose MLP has another shape
    std::vector<test::TestTensor> tensors;
    for (const TensorSpec& t : dense_layout("llama")) {
      auto shape = t.shape;
      if (t.name.find("mlp.up_proj") != std::string::npos) shape = {kIntermediate + 4, kHidden};
      tensors.push_back({t.name, "BF16", shape, test::encode("BF16", std::vector<double>(count(shape), 0.5))});
    }
    files.add("wide/model.safetensors", test::safetensors_file(tensors));
  }
  c = two_experts("random");
  c["experts"][1]["source_model"] = "wide";
  has(error_of(files, c), "model.layers.0.mlp.up_proj.weight': has another shape or dtype than in the base base");
  test::MemoryInputs gpt = three_models("gpt2");
  has(error_of(gpt, two_experts("random")),
      "model_type 'gpt2' has no mixture-of-experts output (Mixtral takes llama and mistral bases");
  c = two_experts("random");
  c["architecture"] = "deepseek";
  has(error_of(files, c), "DeepSeek MoE output is not offered");
  c["architecture"] = "qwen3";
  has(error_of(files, c), "model_type 'llama' and architecture 'qwen3' has no mixture-of-experts output");
  c = two_experts("random");
  c["shared_experts"] = {{{"source_model", "code"}}, {{"source_model", "math"}}};
  has(error_of(files, c), "exactly one shared expert");
  test::MemoryInputs mixed = three_models();
  add_model(mixed, "q", 5, "qwen2");
  c = two_experts("random");
  c["experts"][1]["source_model"] = "q";
  has(error_of(mixed, c), "an expert's model_type 'qwen2' differs from the base's 'llama'");
  files.files.erase("base/config.json");
  has(error_of(files, two_experts("random")), "base: base_model needs its config.json");
  has(error_of(files, {{"base_model", "base"}, {"experts", {}}, {"merge_method", "ties"}}), "unknown key 'experts'");
}

TEST_CASE("moe: every expert the base itself is allowed, with a warning") {
  test::MemoryInputs files = three_models();
  const json c = {{"base_model", "base"},
                  {"gate_mode", "random"},
                  {"experts", {{{"source_model", "base"}}, {{"source_model", "base"}}, {{"source_model", "base"}}}}};
  const Upcycled u = upcycle(files, c);
  bool same = false, power = false;
  for (const auto& w : u.warnings) {
    same = same || w.find("every expert is base") != std::string::npos;
    power = power || w.find("3 experts is not a power of two") != std::string::npos;
  }
  CHECK(same);
  CHECK(power);
  CHECK(u.tensors.at("model.layers.0.block_sparse_moe.experts.2.w3.weight").values ==
        source(0, "model.layers.0.mlp.up_proj.weight"));
}

namespace {

test::RefTensors reference_tensors(const std::map<std::string, test::DecodedTensor>& decoded) {
  test::RefTensors out;
  for (const auto& t : decoded) out[t.first] = test::RefTensor{t.second.shape, t.second.values};
  return out;
}

test::RefTensors base_tensors(int seed, const std::string& model_type) {
  test::RefTensors out;
  for (const TensorSpec& t : dense_layout(model_type))
    out[t.name] = test::RefTensor{t.shape, values_of(seed, t.name, count(t.shape))};
  return out;
}

// The router v = f(positive) − f(negative), normalized, from the reference's hidden states.
std::vector<double> hidden_router_row(const std::vector<double>& states, const std::vector<size_t>& starts,
                                      const std::vector<size_t>& ends, const std::vector<int>& positive,
                                      const std::vector<int>& negative, bool average) {
  auto f = [&](const std::vector<int>& prompts) {
    std::vector<double> sum(kHidden, 0.0);
    for (int p : prompts) {
      std::vector<double> v(kHidden, 0.0);
      for (size_t r = average ? starts[p] : ends[p] - 1; r < ends[p]; ++r)
        for (int i = 0; i < kHidden; ++i) v[i] += states[r * kHidden + i];
      for (int i = 0; i < kHidden; ++i) sum[i] += v[i] / (average ? double(ends[p] - starts[p]) : 1.0);
    }
    for (double& x : sum) x /= prompts.size();
    return sum;
  };
  std::vector<double> v = f(positive);
  if (!negative.empty()) {
    const std::vector<double> n = f(negative);
    for (int i = 0; i < kHidden; ++i) v[i] -= n[i];
  }
  double norm = 0;
  for (double x : v) norm += x * x;
  for (double& x : v) x /= std::sqrt(norm);
  return v;
}

}  // namespace

TEST_CASE("moe: hidden and hidden_avg routers are the base's hidden states at each layer's input") {
  for (const std::string mode : {"hidden", "hidden_avg"}) {
    CAPTURE(mode);
    test::MemoryInputs files = three_models();
    json c = two_experts(mode);
    c["dtype"] = "float32";
    c["experts"][0]["positive_prompts"] = {"def f", "import"};
    c["experts"][1]["positive_prompts"] = {"2+2"};
    c["experts"][1]["negative_prompts"] = {"def f"};
    MergeOptions options;
    const std::vector<std::vector<int32_t>> prompts = {{1, 5, 9}, {1, 3}, {1, 7, 7, 2}};
    options.prompt_tokens = {{"def f", prompts[0]}, {"import", prompts[1]}, {"2+2", prompts[2]}};
    const Upcycled u = upcycle(files, c, options);
    const auto states = test::reference_hidden_states(config_json("llama"), base_tensors(0, "llama"), prompts);
    const std::vector<size_t> starts = {0, 3, 5}, ends = {3, 5, 9};
    const bool average = mode == "hidden_avg";
    for (int l = 0; l < kLayers; ++l) {
      std::vector<double> want = hidden_router_row(states[l], starts, ends, {0, 1}, {}, average);
      const std::vector<double> second = hidden_router_row(states[l], starts, ends, {2}, {0}, average);
      want.insert(want.end(), second.begin(), second.end());
      check_close(u.tensors.at("model.layers." + std::to_string(l) + ".block_sparse_moe.gate.weight").values, want,
                  1e-4);
    }
  }
}

TEST_CASE("moe: a forward pass the base cannot run is an error before anything is written") {
  test::MemoryInputs files = three_models();
  json c = two_experts("hidden");
  c["experts"][0]["positive_prompts"] = {"a"};
  c["experts"][1]["positive_prompts"] = {"b"};
  MergeOptions options;
  options.prompt_tokens = {{"a", {1, 2}}, {"b", {99}}};  // 99: outside the 16-row vocabulary
  const std::string message = error_of(files, c, options);
  CHECK(message.find("99") != std::string::npos);
  options.prompt_tokens.erase("b");
  CHECK(error_of(files, c, options).find("prompt \"b\" reached the engine untokenized") != std::string::npos);
}

TEST_CASE("moe: experts that are all the base compute the base's logits (Mixtral, Qwen3-MoE)") {
  const std::vector<std::vector<int32_t>> tokens = {{3, 1, 4, 1, 5, 9, 2, 6}, {15, 0}};
  for (const std::string type : {"llama", "qwen3"}) {
    CAPTURE(type);
    test::MemoryInputs files = three_models(type);
    json c = {{"base_model", "base"},
              {"gate_mode", "random"},
              {"dtype", "float32"},
              {"experts_per_token", 2},
              {"experts", {{{"source_model", "base"}}, {{"source_model", "base"}}, {{"source_model", "base"}}}}};
    const Upcycled u = upcycle(files, c);
    const std::vector<double> moe =
        test::reference_logits(u.out.text("config.json"), reference_tensors(u.tensors), tokens);
    const std::vector<double> dense = test::reference_logits(config_json(type), base_tensors(0, type), tokens);
    REQUIRE(moe.size() == dense.size());
    double largest = 0;
    for (double x : dense) largest = std::max(largest, std::abs(x));
    for (size_t i = 0; i < moe.size(); ++i) CHECK(std::abs(moe[i] - dense[i]) <= 1e-9 * largest);
  }
}

TEST_CASE("moe: hidden routers of an adapted base (base+adapter) come from the adapted weights") {
  test::MemoryInputs files = three_models();
  test::LoraAdapter lora;  // r 4, alpha 8: s = 2
  lora.add_linear("model.layers.0.self_attn.q_proj", 4, kHidden, kHidden, 31);
  lora.add_linear("model.layers.0.mlp.up_proj", 4, kHidden, kIntermediate, 32);
  lora.write(files, "lora");
  json c = two_experts("hidden");
  c["base_model"] = "base+lora";
  c["dtype"] = "float32";
  c["experts"][0]["positive_prompts"] = {"def f"};
  c["experts"][1]["positive_prompts"] = {"2+2"};
  MergeOptions options;
  const std::vector<std::vector<int32_t>> prompts = {{1, 5, 9}, {1, 7, 7, 2}};
  options.prompt_tokens = {{"def f", prompts[0]}, {"2+2", prompts[1]}};
  const Upcycled u = upcycle(files, c, options);

  test::RefTensors adapted = base_tensors(0, "llama");
  for (const std::string module : {"model.layers.0.self_attn.q_proj", "model.layers.0.mlp.up_proj"}) {
    test::RefTensor& w = adapted.at(module + ".weight");
    w.values =
        test::lora_reference(w.values, w.shape[0], w.shape[1], lora.at("base_model.model." + module + ".lora_A.weight"),
                             lora.at("base_model.model." + module + ".lora_B.weight"), 4, 2.0, false);
  }
  const auto states = test::reference_hidden_states(config_json("llama"), adapted, prompts);
  const auto plain = test::reference_hidden_states(config_json("llama"), base_tensors(0, "llama"), prompts);
  const std::vector<size_t> starts = {0, 3}, ends = {3, 7};
  // Layer 1's input is where the adapter shows: layer 0's attention and MLP are adapted.
  std::vector<double> want = hidden_router_row(states[1], starts, ends, {0}, {}, false);
  const std::vector<double> second = hidden_router_row(states[1], starts, ends, {1}, {}, false);
  want.insert(want.end(), second.begin(), second.end());
  const auto& got = u.tensors.at("model.layers.1.block_sparse_moe.gate.weight").values;
  check_close(got, want, 1e-4);
  std::vector<double> unadapted = hidden_router_row(plain[1], starts, ends, {0}, {}, false);
  CHECK(std::abs(got[0] - unadapted[0]) > 1e-3);  // the adapter changes what the router sees
}
