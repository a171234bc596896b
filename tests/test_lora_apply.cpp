// LoRA adapters merged in (SPEC §8): adapters written by the tests (random A/B, hand-written
// adapter_config.json) applied through `model+adapter`, each adapted tensor compared with
// W + s·B·A computed here in f64 (lora_builder.cpp), for every feature; the same bytes for
// any thread count and memory budget; adapted models as base_model and in slices; every
// error names the adapter file and the module, and nothing is written.
#include <doctest/doctest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "lora/lora_config.hpp"
#include "lora_builder.hpp"
#include "support.hpp"
#include "wasmerge/error.hpp"
#include "wasmerge/merge.hpp"

using namespace wasmerge;
using test::Bytes;
using json = nlohmann::json;

namespace {

// Dimensions chosen so that a 1 MB budget cuts the larger tensors into blocks that end
// mid-row (1000 and 48 divide no block size).
constexpr uint64_t kVocab = 300, kDim = 48, kInter = 1000, kLayers = 2;

struct Spec {
  std::string name;
  std::vector<uint64_t> shape;
};

std::string layer(int i, const std::string& part) { return "model.layers." + std::to_string(i) + "." + part; }

std::vector<Spec> layout() {
  std::vector<Spec> l = {{"model.embed_tokens.weight", {kVocab, kDim}}};
  for (int i = 0; i < static_cast<int>(kLayers); ++i) {
    l.push_back({layer(i, "self_attn.q_proj.weight"), {kDim, kDim}});
    l.push_back({layer(i, "self_attn.q_proj.bias"), {kDim}});
    l.push_back({layer(i, "mlp.up_proj.weight"), {kInter, kDim}});
    l.push_back({layer(i, "mlp.down_proj.weight"), {kDim, kInter}});
    l.push_back({layer(i, "attn.c_attn.weight"), {kDim, 2 * kDim}});  // a GPT-2 Conv1D: [in, out]
  }
  l.push_back({"model.norm.weight", {kDim}});
  l.push_back({"lm_head.weight", {kVocab, kDim}});
  return l;
}

size_t count(const std::vector<uint64_t>& shape) {
  size_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

std::vector<double> model_values(const std::string& dtype, int model, size_t index, size_t n) {
  return test::random_values(dtype, n, static_cast<uint32_t>(model * 100 + index + 1));
}

void add_model(test::MemoryInputs& files, const std::string& folder, const std::string& dtype, int model = 0) {
  std::vector<test::TestTensor> tensors;
  const auto l = layout();
  for (size_t t = 0; t < l.size(); ++t)
    tensors.push_back(
        {l[t].name, dtype, l[t].shape, test::encode(dtype, model_values(dtype, model, t, count(l[t].shape)))});
  files.add(folder + "/model.safetensors", test::safetensors_file(tensors));
  files.add_text(folder + "/config.json", R"({"architectures":["LlamaForCausalLM"],"num_hidden_layers":2})");
}

std::vector<double> source(const std::string& dtype, const std::string& name, int model = 0) {
  const auto l = layout();
  for (size_t t = 0; t < l.size(); ++t)
    if (l[t].name == name) return model_values(dtype, model, t, count(l[t].shape));
  FAIL("no tensor " << name);
  return {};
}

std::vector<uint64_t> shape_of(const std::string& name) {
  for (const auto& s : layout())
    if (s.name == name) return s.shape;
  FAIL("no tensor " << name);
  return {};
}

test::MemoryOutputs merge(test::MemoryInputs& files, const std::string& config, unsigned threads = 2,
                          uint64_t memory_mb = 1024) {
  test::MemoryOutputs out;
  MergeOptions o;
  o.threads = threads;
  o.memory_mb = memory_mb;
  run_merge(config, o, files, out);
  return out;
}

std::map<std::string, test::DecodedTensor> merged(test::MemoryInputs& files, const std::string& config) {
  return test::decode_file(merge(files, config).committed.at("model.safetensors"));
}

std::string apply_config(const std::string& model, const std::string& extra = "") {
  return R"({"merge_method":"passthrough","models":[{"model":")" + model + R"("}])" + extra + "}";
}

double ulp(const std::string& dtype, double v) {
  const int bits = dtype == "BF16" ? 8 : dtype == "F16" ? 11 : 24;
  return std::ldexp(std::max(std::fabs(v), std::ldexp(1.0, -126)), 1 - bits);
}

// Every element within one output ulp plus f32 arithmetic on terms of that size.
void check_close(const std::string& what, const test::DecodedTensor& got, const std::string& dtype,
                 const std::vector<double>& expected, const std::vector<double>& terms) {
  INFO(what);
  REQUIRE(got.values.size() == expected.size());
  CHECK(got.dtype == dtype);
  size_t bad = 0, first = 0;
  for (size_t i = 0; i < expected.size(); ++i)
    if (!(std::fabs(got.values[i] - expected[i]) <= ulp(dtype, expected[i]) + std::ldexp(terms[i], -19)))
      if (bad++ == 0) first = i;
  INFO("first bad element " << first << ": " << got.values[first] << " vs " << expected[first]);
  CHECK(bad == 0);
}

// The adapted weight `module` of the model, against the f64 reference.
void check_lora(const std::map<std::string, test::DecodedTensor>& out, const test::LoraAdapter& ad,
                const std::string& dtype, const std::string& module, uint64_t r, double s, bool transposed = false,
                bool embedding = false, const std::string& model_dtype = "") {
  const std::string w = module + ".weight";
  const auto shape = shape_of(w);
  const std::string p = "base_model.model." + module;
  const auto& a = ad.at(p + (embedding ? ".lora_embedding_A" : ".lora_A.weight"));
  const auto& b = ad.at(p + (embedding ? ".lora_embedding_B" : ".lora_B.weight"));
  std::vector<double> terms;
  const auto expected = test::lora_reference(source(model_dtype.empty() ? dtype : model_dtype, w), shape[0], shape[1],
                                             a, b, r, s, transposed, &terms);
  check_close(w, out.at(w), dtype, expected, terms);
}

std::string error_of(test::MemoryInputs& files, const std::string& config) {
  test::MemoryOutputs out;
  try {
    run_merge(config, MergeOptions{}, files, out);
  } catch (const MergeError& e) {
    CHECK(out.committed.empty());  // nothing written
    return e.what();
  }
  FAIL("merge accepted");
  return "";
}

// Every linear layer of both layers, rank 4, alpha 8: s = 2.
test::LoraAdapter linear_adapter(const std::string& config = R"({"peft_type":"LORA","r":4,"lora_alpha":8})") {
  test::LoraAdapter ad;
  ad.config = config;
  uint32_t seed = 1;
  for (int i = 0; i < static_cast<int>(kLayers); ++i) {
    ad.add_linear(layer(i, "self_attn.q_proj"), 4, kDim, kDim, seed++);
    ad.add_linear(layer(i, "mlp.up_proj"), 4, kDim, kInter, seed++);
    ad.add_linear(layer(i, "mlp.down_proj"), 4, kInter, kDim, seed++);
  }
  return ad;
}

}  // namespace

TEST_CASE("lora: model+adapter under passthrough writes W + s·B·A in the model's dtype, other tensors unchanged") {
  for (const std::string dtype : {"BF16", "F32"}) {
    INFO(dtype);
    test::MemoryInputs files;
    add_model(files, "base", dtype);
    const auto ad = linear_adapter();
    ad.write(files, "ad");
    const auto out = merged(files, apply_config("base+ad"));
    for (int i = 0; i < static_cast<int>(kLayers); ++i)
      for (const char* m : {"self_attn.q_proj", "mlp.up_proj", "mlp.down_proj"})
        check_lora(out, ad, dtype, layer(i, m), 4, 2.0);
    for (const char* name : {"model.embed_tokens.weight", "model.norm.weight", "lm_head.weight"}) {
      CHECK(out.at(name).dtype == dtype);
      CHECK(out.at(name).values == source(dtype, name));
    }
    CHECK(out.at(layer(1, "attn.c_attn.weight")).values == source(dtype, layer(1, "attn.c_attn.weight")));
  }
}

TEST_CASE("lora: an adapter in bf16, the .default name form, and a dtype change") {
  test::MemoryInputs files;
  add_model(files, "base", "BF16");
  test::LoraAdapter ad;
  ad.add_linear(layer(0, "mlp.up_proj"), 4, kDim, kInter, 5, "BF16");
  ad.add("base_model.model." + layer(1, "mlp.down_proj") + ".lora_A.default.weight", {4, kInter}, 6);
  ad.add("base_model.model." + layer(1, "mlp.down_proj") + ".lora_B.default.weight", {kDim, 4}, 7);
  ad.write(files, "ad");
  const auto out = merged(files, apply_config("base+ad", R"(,"dtype":"float32")"));
  check_lora(out, ad, "F32", layer(0, "mlp.up_proj"), 4, 2.0, false, false, "BF16");
  const std::string w = layer(1, "mlp.down_proj.weight");
  std::vector<double> terms;
  const auto expected = test::lora_reference(
      source("BF16", w), kDim, kInter,
      ad.at("base_model.model." + layer(1, "mlp.down_proj") + ".lora_A.default.weight"),
      ad.at("base_model.model." + layer(1, "mlp.down_proj") + ".lora_B.default.weight"), 4, 2.0, false, &terms);
  check_close(w, out.at(w), "F32", expected, terms);
}

TEST_CASE("lora: rsLoRA scales by alpha/√r; rank_pattern and alpha_pattern override per module, first match wins") {
  test::MemoryInputs files;
  add_model(files, "base", "F32");
  test::LoraAdapter ad;
  ad.config = R"({"peft_type":"LORA","r":4,"lora_alpha":6,"use_rslora":true,
      "rank_pattern":{"layers.0.self_attn.q_proj":2,"q_proj":9,"mlp\\.up_.*":3},
      "alpha_pattern":{"down_proj":5}})";
  ad.add_linear(layer(0, "self_attn.q_proj"), 2, kDim, kDim, 11);  // first key matches: r 2
  ad.add_linear(layer(1, "self_attn.q_proj"), 9, kDim, kDim, 12);  // second: r 9
  ad.add_linear(layer(0, "mlp.up_proj"), 3, kDim, kInter, 13);     // a regex key: r 3
  ad.add_linear(layer(0, "mlp.down_proj"), 4, kInter, kDim, 14);   // r 4, alpha 5
  ad.write(files, "ad");
  const auto out = merged(files, apply_config("base+ad"));
  check_lora(out, ad, "F32", layer(0, "self_attn.q_proj"), 2, 6 / std::sqrt(2.0));
  check_lora(out, ad, "F32", layer(1, "self_attn.q_proj"), 9, 6 / 3.0);
  check_lora(out, ad, "F32", layer(0, "mlp.up_proj"), 3, 6 / std::sqrt(3.0));
  check_lora(out, ad, "F32", layer(0, "mlp.down_proj"), 4, 5 / 2.0);
}

TEST_CASE("lora: PEFT's pattern rule (.*\\.)?(K)$") {
  CHECK(pattern_matches("q_proj", "model.layers.0.self_attn.q_proj"));
  CHECK(pattern_matches("layers.0.self_attn.q_proj", "model.layers.0.self_attn.q_proj"));
  CHECK(pattern_matches("model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.q_proj"));
  CHECK_FALSE(pattern_matches("proj", "model.layers.0.self_attn.q_proj"));  // only whole dotted parts
  CHECK_FALSE(pattern_matches("q_pro", "model.layers.0.self_attn.q_proj"));
  CHECK_FALSE(pattern_matches("layers.1.self_attn.q_proj", "model.layers.0.self_attn.q_proj"));
  CHECK(pattern_matches(".*_proj", "model.layers.0.mlp.up_proj"));
}

TEST_CASE("lora: fan_in_fan_out adds (B·A)ᵀ to a Conv1D weight stored [in, out]") {
  test::MemoryInputs files;
  add_model(files, "base", "BF16");
  test::LoraAdapter ad;
  ad.config = R"({"peft_type":"LORA","r":4,"lora_alpha":4,"fan_in_fan_out":true})";
  ad.add_linear(layer(0, "attn.c_attn"), 4, kDim, 2 * kDim, 21);  // A [r, in], B [out, r]
  ad.write(files, "ad");
  const auto out = merged(files, apply_config("base+ad"));
  check_lora(out, ad, "BF16", layer(0, "attn.c_attn"), 4, 1.0, true);
}

TEST_CASE("lora: an embedding adapter adds s·(B·A)ᵀ; modules_to_save replaces lm_head; lora_B.bias shifts the bias") {
  test::MemoryInputs files;
  add_model(files, "base", "BF16");
  test::LoraAdapter ad;
  ad.config = R"({"peft_type":"LORA","r":4,"lora_alpha":2,"lora_bias":true,"modules_to_save":["lm_head"]})";
  ad.add_embedding("model.embed_tokens", 4, kVocab, kDim, 31);
  ad.add_linear(layer(1, "self_attn.q_proj"), 4, kDim, kDim, 32);
  ad.add("base_model.model." + layer(1, "self_attn.q_proj") + ".lora_B.bias", {kDim}, 33);
  ad.add("base_model.model.lm_head.weight", {kVocab, kDim}, 34, 1.0, 0.0, "F32");
  ad.write(files, "ad");
  const auto out = merged(files, apply_config("base+ad"));
  check_lora(out, ad, "BF16", "model.embed_tokens", 4, 0.5, true, true);
  check_lora(out, ad, "BF16", layer(1, "self_attn.q_proj"), 4, 0.5);
  // bias + s·lora_B.bias
  const std::string bias = layer(1, "self_attn.q_proj.bias");
  std::vector<double> expected = source("BF16", bias), terms(kDim);
  const auto& shift = ad.at("base_model.model." + layer(1, "self_attn.q_proj") + ".lora_B.bias");
  for (size_t i = 0; i < kDim; ++i) {
    terms[i] = std::fabs(expected[i]) + std::fabs(0.5 * shift[i]);
    expected[i] += 0.5 * shift[i];
  }
  check_close(bias, out.at(bias), "BF16", expected, terms);
  CHECK(out.at(layer(0, "self_attn.q_proj.bias")).values == source("BF16", layer(0, "self_attn.q_proj.bias")));
  // lm_head: the adapter's f32 values rounded to the model's bf16
  const auto& saved = ad.at("base_model.model.lm_head.weight");
  check_close("lm_head", out.at("lm_head.weight"), "BF16", saved, std::vector<double>(saved.size(), 0.0));
}

TEST_CASE("lora: DoRA rescales W' to the magnitude per output row (Linear) or per column (fan_in_fan_out, embedding)") {
  for (const uint64_t memory_mb : {uint64_t(1), uint64_t(1024)}) {
    INFO("memory_mb " << memory_mb);
    test::MemoryInputs files;
    add_model(files, "base", "F32");
    test::LoraAdapter ad;
    ad.config = R"({"peft_type":"LORA","r":4,"lora_alpha":8,"use_dora":true})";
    ad.add_linear(layer(0, "mlp.down_proj"), 4, kInter, kDim, 41);
    ad.add("base_model.model." + layer(0, "mlp.down_proj") + ".lora_magnitude_vector", {kDim}, 42, 0.5, 2.0);
    ad.add_linear(layer(1, "mlp.up_proj"), 4, kDim, kInter, 43);
    ad.add("base_model.model." + layer(1, "mlp.up_proj") + ".lora_magnitude_vector.weight", {kInter}, 44, 0.5, 1.0);
    ad.add_embedding("model.embed_tokens", 4, kVocab, kDim, 45);
    ad.add("base_model.model.model.embed_tokens.lora_magnitude_vector", {kDim}, 46, 0.5, 8.0);
    ad.write(files, "ad");
    test::LoraAdapter fifo;
    fifo.config = R"({"peft_type":"LORA","r":4,"lora_alpha":8,"use_dora":true,"fan_in_fan_out":true})";
    fifo.add_linear(layer(0, "attn.c_attn"), 4, kDim, 2 * kDim, 47);
    fifo.add("base_model.model." + layer(0, "attn.c_attn") + ".lora_magnitude_vector", {2 * kDim}, 48, 0.5, 4.0);
    fifo.write(files, "fifo");
    for (const std::string name : {"ad", "fifo"}) {
      const test::LoraAdapter& adapter = name == "ad" ? ad : fifo;
      test::MemoryOutputs o = merge(files, apply_config("base+" + name), 2, memory_mb);
      const auto out = test::decode_file(o.committed.at("model.safetensors"));
      struct Case {
        std::string module, magnitude;
        bool transposed, embedding;
      };
      std::vector<Case> cases;
      if (name == "ad")
        cases = {{layer(0, "mlp.down_proj"), ".lora_magnitude_vector", false, false},
                 {layer(1, "mlp.up_proj"), ".lora_magnitude_vector.weight", false, false},
                 {"model.embed_tokens", ".lora_magnitude_vector", true, true}};
      else
        cases = {{layer(0, "attn.c_attn"), ".lora_magnitude_vector", true, false}};
      for (const Case& c : cases) {
        const std::string w = c.module + ".weight", p = "base_model.model." + c.module;
        const auto shape = shape_of(w);
        std::vector<double> terms, factors;
        const auto adapted = test::lora_reference(
            source("F32", w), shape[0], shape[1],
            adapter.at(p + (c.embedding ? ".lora_embedding_A" : ".lora_A.weight")),
            adapter.at(p + (c.embedding ? ".lora_embedding_B" : ".lora_B.weight")), 4, 2.0, c.transposed, &terms);
        const auto expected =
            test::dora_reference(adapted, shape[0], shape[1], adapter.at(p + c.magnitude), c.transposed, &factors);
        for (size_t i = 0; i < terms.size(); ++i) terms[i] *= 2 * factors[i];
        check_close(w, out.at(w), "F32", expected, terms);
      }
    }
  }
}

TEST_CASE("lora: the same bytes for 1 and 3 threads and a 1 MB (many blocks, cut mid-row) or 1 GB budget") {
  for (const std::string dtype : {"BF16", "F32"}) {
    INFO(dtype);
    test::MemoryInputs files;
    add_model(files, "base", dtype);
    auto ad = linear_adapter(R"({"peft_type":"LORA","r":4,"lora_alpha":8,"use_dora":true,"lora_bias":true})");
    for (int i = 0; i < static_cast<int>(kLayers); ++i) {
      ad.add("base_model.model." + layer(i, "self_attn.q_proj") + ".lora_magnitude_vector", {kDim}, 60 + i, 0.5, 2.0);
      ad.add("base_model.model." + layer(i, "mlp.up_proj") + ".lora_magnitude_vector", {kInter}, 62 + i, 0.5, 2.0);
      ad.add("base_model.model." + layer(i, "mlp.down_proj") + ".lora_magnitude_vector", {kDim}, 64 + i, 0.5, 2.0);
      ad.add("base_model.model." + layer(i, "self_attn.q_proj") + ".lora_B.bias", {kDim}, 66 + i);
    }
    ad.add_embedding("model.embed_tokens", 4, kVocab, kDim, 70);
    ad.add("base_model.model.model.embed_tokens.lora_magnitude_vector", {kDim}, 71, 0.5, 8.0);
    ad.write(files, "ad");
    test::LoraAdapter plain = linear_adapter();
    plain.add_embedding("model.embed_tokens", 4, kVocab, kDim, 72);
    plain.write(files, "plain");
    for (const std::string name : {"ad", "plain"}) {
      const std::string config = apply_config("base+" + name);
      const Bytes reference = merge(files, config, 1, 1024).committed.at("model.safetensors");
      CHECK(merge(files, config, 3, 1024).committed.at("model.safetensors") == reference);
      CHECK(merge(files, config, 1, 1).committed.at("model.safetensors") == reference);
      CHECK(merge(files, config, 3, 1).committed.at("model.safetensors") == reference);
    }
  }
}

TEST_CASE("lora: an adapted model as base_model of a task_arithmetic merge and as a slice source") {
  test::MemoryInputs files;
  add_model(files, "base", "F32");
  add_model(files, "other", "F32", 1);
  const auto ad = linear_adapter();
  ad.write(files, "ad");
  // base+ad as the base: the task vector of `other` is other − (base + s·B·A); weight 1 gives `other` back
  // where the base's adapted tensor cancels, so compare against the adapted base directly at weight 0.5.
  const auto out = merged(files, R"({"merge_method":"task_arithmetic","base_model":"base+ad",
      "models":[{"model":"other","parameters":{"weight":0.5}}]})");
  const std::string w = layer(1, "mlp.up_proj.weight");
  const std::string p = "base_model.model." + layer(1, "mlp.up_proj");
  std::vector<double> terms;
  const auto adapted = test::lora_reference(source("F32", w), kInter, kDim, ad.at(p + ".lora_A.weight"),
                                            ad.at(p + ".lora_B.weight"), 4, 2.0, false, &terms);
  const auto other = source("F32", w, 1);
  std::vector<double> expected(adapted.size());
  for (size_t i = 0; i < adapted.size(); ++i) {
    expected[i] = adapted[i] + 0.5 * (other[i] - adapted[i]);
    terms[i] += std::fabs(other[i]);
  }
  check_close(w, out.at(w), "F32", expected, terms);
  // Slices: layers of base+ad then of base; the adapted layer 1 lands at output layer 0.
  const auto sliced = merged(files, R"({"merge_method":"passthrough","slices":[
      {"sources":[{"model":"base+ad","layer_range":[1,2]}]},
      {"sources":[{"model":"base","layer_range":[1,2]}]}]})");
  check_close("slice", sliced.at(layer(0, "mlp.up_proj.weight")), "F32", adapted, terms);
  CHECK(sliced.at(layer(1, "mlp.up_proj.weight")).values == source("F32", w));
  // The plain model and its adapted self in one merge are two models.
  const auto both = merged(files, R"({"merge_method":"linear","models":[
      {"model":"base","parameters":{"weight":1}},{"model":"base+ad","parameters":{"weight":1}}]})");
  const auto plain = source("F32", w);
  for (size_t i = 0; i < adapted.size(); ++i) expected[i] = (plain[i] + adapted[i]) / 2;
  check_close("linear", both.at(w), "F32", expected, terms);
}

TEST_CASE("lora: the dry run names the computed tensors") {
  test::MemoryInputs files;
  add_model(files, "base", "BF16");
  linear_adapter().write(files, "ad");
  MergeOptions o;
  const json plan = json::parse(plan_merge(apply_config("base+ad"), o, files));
  bool found = false;
  for (const auto& t : plan["tensors"])
    if (t["name"] == layer(0, "mlp.up_proj.weight")) {
      found = true;
      CHECK(t["action"] == "merge");
      CHECK(t["sources"][0]["model"] == "base+ad");
      CHECK(t["sources"][0]["computed"].get<std::string>().find("B·A") != std::string::npos);
    } else if (t["name"] == "lm_head.weight") {
      CHECK(t["action"] == "copy");
    }
  CHECK(found);
}

TEST_CASE("lora: a path with '+' that is itself a model stays a model") {
  test::MemoryInputs files;
  add_model(files, "a+b", "BF16");
  const auto out = merged(files, apply_config("a+b"));
  CHECK(out.at("lm_head.weight").values == source("BF16", "lm_head.weight"));
}

TEST_CASE("lora: bad adapters are one line naming the adapter file and the module; nothing is written") {
  test::MemoryInputs files;
  add_model(files, "base", "BF16");
  const auto error = [&](const test::LoraAdapter& ad) {
    ad.write(files, "bad");
    return error_of(files, apply_config("base+bad"));
  };
  const std::string weights = "bad/adapter_model.safetensors";
  SUBCASE("a module the model lacks") {
    test::LoraAdapter ad;
    ad.add_linear("model.layers.7.self_attn.q_proj", 4, kDim, kDim, 1);
    const auto e = error(ad);
    CHECK(e.find(weights) == 0);
    CHECK(e.find("model.layers.7.self_attn.q_proj") != std::string::npos);
    CHECK(e.find("base lacks") != std::string::npos);
  }
  SUBCASE("A's input size differs from W's") {
    test::LoraAdapter ad;
    ad.add_linear(layer(0, "mlp.up_proj"), 4, kDim + 1, kInter, 1);
    const auto e = error(ad);
    CHECK(e.find(weights + ": tensor 'base_model.model.model.layers.0.mlp.up_proj.lora_A.weight'") == 0);
    CHECK(e.find("input size 49 ≠ 48") != std::string::npos);
  }
  SUBCASE("B's output size differs from W's") {
    test::LoraAdapter ad;
    ad.add_linear(layer(0, "mlp.up_proj"), 4, kDim, kInter - 1, 1);
    const auto e = error(ad);
    CHECK(e.find("lora_B.weight'") != std::string::npos);
    CHECK(e.find("output size 999 ≠ 1000") != std::string::npos);
  }
  SUBCASE("ranks of A and B differ") {
    test::LoraAdapter ad;
    ad.add("base_model.model." + layer(0, "mlp.up_proj") + ".lora_A.weight", {4, kDim}, 1);
    ad.add("base_model.model." + layer(0, "mlp.up_proj") + ".lora_B.weight", {kInter, 3}, 2);
    CHECK(error(ad).find("has rank 3") != std::string::npos);
  }
  SUBCASE("the rank differs from the config's r") {
    test::LoraAdapter ad;
    ad.add_linear(layer(0, "mlp.up_proj"), 5, kDim, kInter, 1);
    CHECK(error(ad).find("has rank 5, but bad/adapter_config.json gives it r = 4") != std::string::npos);
  }
  SUBCASE("A without B") {
    test::LoraAdapter ad;
    ad.add("base_model.model." + layer(0, "mlp.up_proj") + ".lora_A.weight", {4, kDim}, 1);
    CHECK(error(ad).find("has no lora_B.weight") != std::string::npos);
  }
  SUBCASE("a bias for a module without one") {
    test::LoraAdapter ad;
    ad.add_linear(layer(0, "mlp.up_proj"), 4, kDim, kInter, 1);
    ad.add("base_model.model." + layer(0, "mlp.up_proj") + ".lora_B.bias", {kInter}, 2);
    CHECK(error(ad).find("has no 'model.layers.0.mlp.up_proj.bias'") != std::string::npos);
  }
  SUBCASE("use_dora without magnitudes, and magnitudes without use_dora") {
    test::LoraAdapter ad;
    ad.config = R"({"peft_type":"LORA","r":4,"lora_alpha":8,"use_dora":true})";
    ad.add_linear(layer(0, "mlp.up_proj"), 4, kDim, kInter, 1);
    CHECK(error(ad).find("has no lora_magnitude_vector") != std::string::npos);
    ad.config = R"({"peft_type":"LORA","r":4,"lora_alpha":8})";
    ad.add("base_model.model." + layer(0, "mlp.up_proj") + ".lora_magnitude_vector", {kInter}, 2, 0.5, 1.0);
    CHECK(error(ad).find("does not set use_dora") != std::string::npos);
  }
  SUBCASE("a modules_to_save tensor of another shape or for a missing tensor") {
    test::LoraAdapter ad;
    ad.add("base_model.model.lm_head.weight", {kVocab + 2, kDim}, 1);
    CHECK(error(ad).find("with another shape, [302, 48]") != std::string::npos);
    test::LoraAdapter missing;
    missing.add("base_model.model.score.weight", {2, kDim}, 1);
    CHECK(error(missing).find("'score.weight', which base lacks") != std::string::npos);
  }
  SUBCASE("tensor names that are not PEFT's") {
    test::LoraAdapter ad;
    ad.add("model.layers.0.mlp.up_proj.lora_A.weight", {4, kDim}, 1);
    CHECK(error(ad).find("is not a PEFT tensor name") != std::string::npos);
  }
  SUBCASE("adapter_config.json malformed, not LoRA, or with bad values") {
    test::LoraAdapter ad;
    ad.add_linear(layer(0, "mlp.up_proj"), 4, kDim, kInter, 1);
    for (const auto& c : std::vector<std::pair<std::string, std::string>>{
             {"{\"peft_type\":", "bad/adapter_config.json: is not valid JSON"},
             {"[1]", "bad/adapter_config.json: is not a JSON object"},
             {R"({"r":4})", "has no peft_type"},
             {R"({"peft_type":"IA3"})", "peft_type is \"IA3\": only LoRA adapters"},
             {R"({"peft_type":"LORA","r":0})", "r is not a positive integer rank"},
             {R"({"peft_type":"LORA","lora_alpha":"8"})", "lora_alpha is not a finite number"},
             {R"({"peft_type":"LORA","use_rslora":"yes"})", "use_rslora is not true or false"},
             {R"({"peft_type":"LORA","rank_pattern":{"(":2}})", "rank_pattern key '(' is not a regular expression"},
             {R"({"peft_type":"LORA","rank_pattern":[1]})", "rank_pattern is not an object"}}) {
      INFO(c.first);
      ad.config = c.first;
      const auto e = error(ad);
      CHECK(e.find(c.second) != std::string::npos);
      CHECK(e.find('\n') == std::string::npos);
    }
  }
  SUBCASE("missing adapter files") {
    CHECK(error_of(files, apply_config("base+nowhere")).find("nowhere/adapter_config.json: missing") == 0);
    files.add_text("half/adapter_config.json", R"({"peft_type":"LORA"})");
    CHECK(error_of(files, apply_config("base+half")).find("half/adapter_model.safetensors: missing") == 0);
    files.add_text("pickled/adapter_config.json", R"({"peft_type":"LORA"})");
    files.add_text("pickled/adapter_model.bin", "x");
    CHECK(error_of(files, apply_config("base+pickled")).find("only adapter_model.bin") != std::string::npos);
  }
  SUBCASE("a budget too small for the factors names the tensor") {
    test::LoraAdapter ad;
    ad.config = R"({"peft_type":"LORA","r":32,"lora_alpha":8})";
    ad.add_linear(layer(0, "mlp.down_proj"), 32, kInter, kDim, 1);
    ad.write(files, "bad");
    test::MemoryOutputs out;
    MergeOptions o;
    o.memory_mb = 1;
    try {
      run_merge(apply_config("base+bad"), o, files, out);
      FAIL("merge accepted");
    } catch (const MergeError& e) {
      const std::string m = e.what();
      CHECK(m.find("model.layers.0.mlp.down_proj.weight") != std::string::npos);
      CHECK(m.find("raise memory_mb") != std::string::npos);
      CHECK(out.committed.empty());
    }
  }
}

TEST_CASE("lora: an adapted model as an expert of a mergekit-moe upcycling") {
  test::MemoryInputs files;
  const uint64_t hidden = 8, inter = 12, vocab = 16;
  std::vector<test::TestTensor> tensors;
  std::map<std::string, std::vector<double>> values;
  auto add = [&](const std::string& name, std::vector<uint64_t> shape) {
    values[name] = test::random_values("BF16", count(shape), static_cast<uint32_t>(values.size() + 1));
    tensors.push_back({name, "BF16", shape, test::encode("BF16", values[name])});
  };
  add("model.embed_tokens.weight", {vocab, hidden});
  for (int i = 0; i < 2; ++i) {
    add(layer(i, "input_layernorm.weight"), {hidden});
    add(layer(i, "self_attn.q_proj.weight"), {hidden, hidden});
    add(layer(i, "self_attn.k_proj.weight"), {hidden / 2, hidden});
    add(layer(i, "self_attn.v_proj.weight"), {hidden / 2, hidden});
    add(layer(i, "self_attn.o_proj.weight"), {hidden, hidden});
    add(layer(i, "post_attention_layernorm.weight"), {hidden});
    add(layer(i, "mlp.gate_proj.weight"), {inter, hidden});
    add(layer(i, "mlp.up_proj.weight"), {inter, hidden});
    add(layer(i, "mlp.down_proj.weight"), {hidden, inter});
  }
  add("model.norm.weight", {hidden});
  add("lm_head.weight", {vocab, hidden});
  files.add("dense/model.safetensors", test::safetensors_file(tensors));
  files.add_text("dense/config.json",
                 R"({"architectures":["LlamaForCausalLM"],"model_type":"llama","num_hidden_layers":2,"hidden_size":8,)"
                 R"("intermediate_size":12,"num_attention_heads":2,"num_key_value_heads":1,"vocab_size":16,)"
                 R"("rms_norm_eps":1e-6,"torch_dtype":"bfloat16"})");
  files.add_text("dense/tokenizer.json", R"({"model":{"type":"WordLevel","vocab":{}}})");
  test::LoraAdapter ad;
  ad.add_linear(layer(1, "mlp.up_proj"), 4, hidden, inter, 81);
  ad.write(files, "ad");
  const std::string config = R"({"base_model":"dense","gate_mode":"random","dtype":"float32",
      "experts":[{"source_model":"dense"},{"source_model":"dense+ad"}]})";
  test::MemoryOutputs o;
  run_merge(config, MergeOptions{}, files, o);
  const auto out = test::decode_file(o.committed.at("model.safetensors"));
  const std::string p = "base_model.model." + layer(1, "mlp.up_proj");
  std::vector<double> terms;
  const auto expected =
      test::lora_reference(values.at(layer(1, "mlp.up_proj.weight")), inter, hidden, ad.at(p + ".lora_A.weight"),
                           ad.at(p + ".lora_B.weight"), 4, 2.0, false, &terms);
  check_close("expert 1", out.at(layer(1, "block_sparse_moe.experts.1.w3.weight")), "F32", expected, terms);
  CHECK(out.at(layer(1, "block_sparse_moe.experts.0.w3.weight")).values == values.at(layer(1, "mlp.up_proj.weight")));
  CHECK(out.at(layer(0, "block_sparse_moe.experts.1.w3.weight")).values == values.at(layer(0, "mlp.up_proj.weight")));
}

TEST_CASE("lora: a vocabulary change of an adapted embedding is refused before anything is written") {
  test::MemoryInputs files;
  add_model(files, "base", "F32");
  add_model(files, "other", "F32", 1);
  for (const std::string m : {"base", "other"}) {
    json vocab = json::object();
    for (uint64_t i = 0; i < kVocab; ++i) vocab[(m == "other" && i == kVocab - 1 ? "x" : "t") + std::to_string(i)] = i;
    files.add_text(m + "/tokenizer.json", json{{"model", {{"type", "WordLevel"}, {"vocab", vocab}}}}.dump());
  }
  test::LoraAdapter ad;
  ad.add_embedding("model.embed_tokens", 4, kVocab, kDim, 91);
  ad.write(files, "ad");
  const std::string e = error_of(files, R"({"merge_method":"linear","tokenizer_source":"union",
      "models":[{"model":"base+ad","parameters":{"weight":1}},{"model":"other","parameters":{"weight":1}}]})");
  CHECK(e.find("base+ad: tensor 'model.embed_tokens.weight': is changed by a LoRA adapter") == 0);
}
