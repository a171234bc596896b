// libFuzzer target: the input is a merge config (JSON, as the hosts hand it over), run
// against a fixed set of small models: three folders of four layers (F32, BF16, F16),
// with config.json, and two PEFT adapter folders (lora, dora). It drives the config
// parser, the method registry's parameter checks, the layer map of `slices:`, mergekit-moe
// upcycling (prompts "a".."d" come tokenized), `model+adapter` references, the dry run,
// the merge and the analysis; any outcome but a result or a MergeError is a bug. An input
// naming a job "kind" (extract_lora and eval seeds) goes to run_job instead, which must never
// throw; eval jobs score the folders above (`a+lora` too) on the tokens they carry.
// Seeds: tests/fuzz/config_corpus.
#include <cstring>
#include <string>
#include <vector>

#include "fuzz_files.hpp"
#include "wasmerge/job.hpp"
#include "wasmerge/merge.hpp"
#include "wasmerge/safetensors.hpp"

namespace {

std::vector<uint8_t> model_file(wasmerge::DType dtype, uint8_t fill) {
  std::vector<wasmerge::TensorInfo> infos;
  auto add = [&](const std::string& name, std::vector<uint64_t> shape) {
    wasmerge::TensorInfo t;
    t.name = name;
    t.dtype = dtype;
    t.shape = std::move(shape);
    infos.push_back(t);
  };
  add("model.embed_tokens.weight", {6, 4});
  for (int i = 0; i < 4; ++i) {  // a whole llama layer: upcycling configs run the decoder on it
    const std::string layer = "model.layers." + std::to_string(i) + ".";
    add(layer + "input_layernorm.weight", {4});
    add(layer + "self_attn.q_proj.weight", {4, 4});
    add(layer + "self_attn.k_proj.weight", {2, 4});
    add(layer + "self_attn.v_proj.weight", {2, 4});
    add(layer + "self_attn.o_proj.weight", {4, 4});
    add(layer + "post_attention_layernorm.weight", {4});
    add(layer + "mlp.gate_proj.weight", {8, 4});
    add(layer + "mlp.up_proj.weight", {8, 4});
    add(layer + "mlp.down_proj.weight", {4, 8});
  }
  add("model.norm.weight", {4});
  add("lm_head.weight", {6, 4});
  const std::string header = wasmerge::serialize_safetensors_header(infos, {});
  std::vector<uint8_t> file(header.begin(), header.end());
  for (const auto& t : infos)
    for (uint64_t i = 0; i < t.num_elements() * wasmerge::dtype_size(dtype); ++i)
      file.push_back(static_cast<uint8_t>(fill + i * 7 % 61));  // small finite values in every dtype
  return file;
}

// Three vocabularies of the six rows: the same tokens, others, and others in another order
// with an added token, so that tokenizer_source: union and tokenizer: remap rows.
const char* const kTokenizers[] = {
    R"({"model":{"type":"BPE","vocab":{"a":0,"b":1,"c":2,"d":3,"e":4,"f":5}},"added_tokens":[]})",
    R"({"model":{"type":"BPE","vocab":{"a":0,"b":1,"c":2,"d":3,"x":4,"y":5}},"added_tokens":[]})",
    R"({"model":{"type":"BPE","vocab":{"f":0,"e":1,"d":2,"c":3,"b":4}},
        "added_tokens":[{"id":5,"content":"<|s|>","special":true}]})"};

// A PEFT adapter (all F32): lora_A/lora_B of rank 2 for q_proj and up_proj of layers 0
// and 1; with DoRA also magnitudes, an embedding adapter and lm_head in modules_to_save.
std::vector<uint8_t> adapter_file(bool dora) {
  std::vector<wasmerge::TensorInfo> infos;
  auto add = [&](const std::string& name, std::vector<uint64_t> shape) {
    wasmerge::TensorInfo t;
    t.name = "base_model.model." + name;
    t.dtype = wasmerge::DType::F32;
    t.shape = std::move(shape);
    infos.push_back(t);
  };
  for (int i = 0; i < 2; ++i) {
    const std::string layer = "model.layers." + std::to_string(i) + ".";
    add(layer + "self_attn.q_proj.lora_A.weight", {2, 4});
    add(layer + "self_attn.q_proj.lora_B.weight", {4, 2});
    add(layer + "mlp.up_proj.lora_A.weight", {2, 4});
    add(layer + "mlp.up_proj.lora_B.weight", {8, 2});
    if (dora) {
      add(layer + "self_attn.q_proj.lora_magnitude_vector", {4});
      add(layer + "mlp.up_proj.lora_magnitude_vector", {8});
    }
  }
  if (dora) {
    add("model.embed_tokens.lora_embedding_A", {2, 6});
    add("model.embed_tokens.lora_embedding_B", {4, 2});
    add("model.embed_tokens.lora_magnitude_vector", {4});
    add("lm_head.weight", {6, 4});
  }
  const std::string header = wasmerge::serialize_safetensors_header(infos, {});
  std::vector<uint8_t> file(header.begin(), header.end());
  for (const auto& t : infos)
    for (uint64_t i = 0; i < t.num_elements(); ++i) {
      const float v = 0.25f + static_cast<float>(i % 5) * 0.125f;  // positive: DoRA's magnitudes and norms
      const auto* bytes = reinterpret_cast<const uint8_t*>(&v);
      file.insert(file.end(), bytes, bytes + 4);
    }
  return file;
}

const char* const kAdapterConfigs[] = {
    R"({"peft_type":"LORA","r":2,"lora_alpha":4,"use_rslora":true,"rank_pattern":{"q_proj":2},"alpha_pattern":{"up_proj":1}})",
    R"({"peft_type":"LORA","r":2,"lora_alpha":2,"use_dora":true,"modules_to_save":["lm_head"]})"};

struct Models {
  std::vector<std::vector<uint8_t>> files, adapters;
  std::string config =
      R"({"model_type":"llama","num_hidden_layers":4,"layer_types":["a","b","c","d"],"torch_dtype":"float32",)"
      R"("hidden_size":4,"intermediate_size":8,"num_attention_heads":2,"num_key_value_heads":1,"vocab_size":6})";
  fuzz::Inputs inputs;
  Models() {
    const std::pair<const char*, wasmerge::DType> models[] = {
        {"base", wasmerge::DType::F32}, {"a", wasmerge::DType::BF16}, {"b", wasmerge::DType::F16}};
    files.reserve(3);
    uint8_t fill = 1;
    for (const auto& [name, dtype] : models) {
      files.push_back(model_file(dtype, fill++));
      inputs.add(std::string(name) + "/model.safetensors", files.back().data(), files.back().size());
      inputs.add(std::string(name) + "/config.json", reinterpret_cast<const uint8_t*>(config.data()), config.size());
      const char* tokenizer = kTokenizers[fill - 2];  // static text: it outlives every merge
      inputs.add(std::string(name) + "/tokenizer.json", reinterpret_cast<const uint8_t*>(tokenizer),
                 std::strlen(tokenizer));
    }
    // Adapter folders for `model+lora` / `model+dora` (SPEC §8).
    adapters.reserve(2);
    for (int k = 0; k < 2; ++k) {
      const std::string folder = k ? "dora" : "lora";
      adapters.push_back(adapter_file(k == 1));
      inputs.add(folder + "/adapter_model.safetensors", adapters.back().data(), adapters.back().size());
      inputs.add(folder + "/adapter_config.json", reinterpret_cast<const uint8_t*>(kAdapterConfigs[k]),
                 std::strlen(kAdapterConfigs[k]));
    }
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Models models;
  const std::string config(reinterpret_cast<const char*>(data), size);
  if (config.find("\"kind\"") != std::string::npos) {
    wasmerge::run_job(
        config, models.inputs, [](const std::string&) { return std::make_unique<fuzz::Outputs>(); },
        [](const std::string&) {});
    return 0;
  }
  wasmerge::MergeOptions options;
  options.threads = 1;
  options.memory_mb = 1;
  options.prompt_tokens = {{"a", {0, 1}}, {"b", {2}}, {"c", {3, 4, 5}}, {"d", {5, 9}}};  // "d": outside the vocabulary
  fuzz::Outputs outputs;
  try {
    wasmerge::plan_merge(config, options, models.inputs);
    wasmerge::run_merge(config, options, models.inputs, outputs);
    wasmerge::run_analysis(config, options, models.inputs);
  } catch (const wasmerge::MergeError&) {
  }
  return 0;
}
