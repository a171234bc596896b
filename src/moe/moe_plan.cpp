#include "moe/moe_plan.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "moe/computed_tensors.hpp"
#include "moe/gate_vectors.hpp"
#include "wasmerge/architecture.hpp"
#include "wasmerge/error.hpp"

namespace wasmerge {

const MergeMethod& passthrough_method();

namespace {

using json = nlohmann::ordered_json;

// One output architecture of mergekit-moe: which bases it takes and how it names things.
struct OutputArchitecture {
  std::string name;        // as the user reads it
  std::string match_name;  // what `architecture:` is a prefix of (mergekit's arch.name())
  std::string hf_class, model_type, experts_key;
  std::vector<std::string> bases;  // model_types of the inputs it takes
  bool shared_expert;              // takes exactly one (Qwen2-MoE), else none
  bool mixtral_names;              // block_sparse_moe.experts.E.w1/w2/w3, else mlp.experts.E.*_proj
};

const std::vector<OutputArchitecture>& output_architectures() {
  static const std::vector<OutputArchitecture> all = {
      {"Mixtral", "mixtral", "MixtralForCausalLM", "mixtral", "num_local_experts", {"llama", "mistral"}, false, true},
      {"Qwen2-MoE",
       "qwen moe",
       "Qwen2MoeForCausalLM",
       "qwen2_moe",
       "num_experts",
       {"llama", "mistral", "qwen2"},
       true,
       false},
      {"Qwen3-MoE", "qwen3 moe", "Qwen3MoeForCausalLM", "qwen3_moe", "num_experts", {"qwen3"}, false, false}};
  return all;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return s;
}

std::string architectures_text() {
  return "Mixtral takes llama and mistral bases without shared experts; Qwen2-MoE takes llama, mistral and qwen2 "
         "bases with exactly one shared expert; Qwen3-MoE takes qwen3 bases without shared experts";
}

// mergekit's select_output_arch: the `architecture:` prefix filter, then Mixtral when it fits.
const OutputArchitecture& choose_architecture(const MoeConfig& c, const std::string& base_type,
                                              const std::vector<std::string>& types) {
  const std::string wanted = lower(c.architecture.value_or(""));
  if (!wanted.empty() && std::string("deepseek moe").rfind(wanted, 0) == 0)
    fail("config", "",
         "architecture '" + *c.architecture + "': DeepSeek MoE output is not offered by wasmerge (" +
             architectures_text() + ")");
  bool any_named = false;
  for (const OutputArchitecture& a : output_architectures()) {
    if (a.match_name.rfind(wanted, 0) != 0) continue;
    any_named = true;
    const bool types_fit = std::all_of(types.begin(), types.end(), [&](const std::string& t) {
      return t == base_type && std::find(a.bases.begin(), a.bases.end(), t) != a.bases.end();
    });
    if (types_fit && (c.shared_experts.size() == 1) == a.shared_expert) return a;
  }
  if (!any_named)
    fail("config", "", "architecture '" + *c.architecture + "' names no output architecture (mixtral, qwen, qwen3)");
  for (const std::string& t : types)
    if (t != base_type)
      fail("config", "",
           "an expert's model_type '" + t + "' differs from the base's '" + base_type + "': the experts must share it");
  fail(c.base_model, "",
       "model_type '" + base_type + "'" + (c.shared_experts.empty() ? "" : " with a shared expert") +
           (wanted.empty() ? "" : " and architecture '" + *c.architecture + "'") +
           " has no mixture-of-experts output (" + architectures_text() + ")");
}

struct BaseConfig {
  std::string path, text, model_type;
  json values;
};

BaseConfig read_config(InputFiles& files, const Model& model, const std::string& role) {
  BaseConfig b;
  b.path = model.folder_file("config.json");
  if (!model.is_folder || !files.file_size(b.path))
    fail(model.path, "",
         role + " needs its config.json (give the model's folder): the output's config is made from it");
  b.text = read_small_file(files, b.path);
  b.values = json::parse(b.text, nullptr, false);
  if (b.values.is_discarded() || !b.values.is_object()) fail(b.path, "", "is not a JSON object");
  b.model_type = b.values.value("model_type", std::string());
  return b;
}

// The passthrough copy of one input tensor under a new name, in the config's dtype.
OutputTensor copied(const MoeConfig& c, const ModelTensor& t, const std::string& name) {
  OutputTensor out;
  out.info = t.info;
  out.info.name = name;
  out.method = &passthrough_method();
  out.inputs.push_back(TensorInput{&t, 0, {}, nullptr});
  if (!is_mergeable(t.info.dtype)) {
    out.action = TensorAction::Copy;
    out.copy_from = &t;
    return out;
  }
  out.info.dtype = c.dtype.value_or(t.info.dtype);
  if (out.method->byte_copy(out)) {
    out.action = TensorAction::Copy;
    out.copy_from = &t;
  }
  return out;
}

OutputTensor computed(const std::string& name, std::vector<uint64_t> shape, DType dtype,
                      std::shared_ptr<const ComputedTensor> source) {
  OutputTensor out;
  out.info.name = name;
  out.info.shape = std::move(shape);
  out.info.dtype = dtype;
  out.method = &passthrough_method();
  out.inputs.push_back(TensorInput{nullptr, 0, {}, nullptr, std::move(source)});
  return out;
}

// "gate_proj" of "model.layers.3.mlp.gate_proj.weight", or an error naming the tensor.
std::string projection_of(const Model& base, const ModelTensor& t, const LayerName& n) {
  static const char* const kProjections[] = {"gate_proj", "up_proj", "down_proj"};
  for (const char* p : kProjections)
    if (n.suffix == std::string(".mlp.") + p + ".weight") return p;
  fail(base.path, t.info.name, "has no place among the experts' weights (only mlp.gate_proj, up_proj and down_proj)");
}

class MoePlanner {
 public:
  MoePlanner(MergePlan& plan, const MoeConfig& c, InputFiles& files, const PromptTokens& tokens)
      : plan_(plan), c_(c), files_(files), tokens_(tokens) {}

  // Returns the output architecture's name.
  std::string run() {
    for (const std::string& path : c_.models())
      plan_.models.push_back(std::make_unique<Model>(open_model(files_, path)));
    base_ = plan_.models.front().get();
    plan_.donor = base_;
    const BaseConfig base_config = read_config(files_, *base_, "base_model");
    std::vector<std::string> types;
    for (const auto* list : {&c_.experts, &c_.shared_experts})
      for (const MoeExpert& e : *list) types.push_back(expert_type(e, base_config.model_type));
    arch_ = &choose_architecture(c_, base_config.model_type, types);
    plan_router_inputs(base_config);
    map_tensors();
    edit_config(base_config);
    warn();
    return arch_->name;
  }

 private:
  std::string expert_type(const MoeExpert& e, const std::string& base_type) {
    const Model& m = plan_.model(e.source_model);
    if (&m == base_ || !m.is_folder || !files_.file_size(m.folder_file("config.json"))) return base_type;
    return read_config(files_, m, "expert").model_type;
  }

  std::vector<const MoeExpert*> slots() const {  // router rows: the experts, then the shared expert
    std::vector<const MoeExpert*> out;
    for (const MoeExpert& e : c_.experts) out.push_back(&e);
    for (const MoeExpert& e : c_.shared_experts) out.push_back(&e);
    return out;
  }

  std::vector<int32_t> tokens_of(const std::string& prompt) {
    auto it = tokens_.find(prompt);
    if (it == tokens_.end()) {
      if (!files_.file_size(base_->folder_file("tokenizer.json")))
        fail(base_->path, "",
             std::string("has no tokenizer.json, which gate_mode '") + gate_mode_name(c_.gate_mode) +
                 "' needs to tokenize the prompts (or use gate_mode random)");
      fail("config", "", "prompt \"" + prompt + "\" reached the engine untokenized (the host passes prompt_tokens)");
    }
    if (it->second.empty()) fail("config", "", "prompt \"" + prompt + "\" has no tokens");
    return it->second;
  }

  void plan_router_inputs(const BaseConfig& base_config) {
    if (!uses_prompts(c_.gate_mode)) return;
    const DecoderShape shape = read_decoder_shape(base_config.text, base_config.path);
    std::vector<SlotPrompts> prompts;
    for (const MoeExpert* e : slots()) {
      SlotPrompts p;
      for (const auto& text : e->positive_prompts) p.positive.push_back(tokens_of(text));
      for (const auto& text : e->negative_prompts) p.negative.push_back(tokens_of(text));
      prompts.push_back(std::move(p));
    }
    table_ = std::make_shared<GateTable>();
    plan_.precomputes.push_back(gate_vectors(*base_, c_.gate_mode, shape, std::move(prompts), table_));
  }

  std::shared_ptr<const ComputedTensor> router(const std::string& name, int layer, int first_slot,
                                               uint64_t hidden) const {
    if (table_) return table_router(table_, name, layer, first_slot);
    const RandomKind kind = c_.gate_mode == GateMode::Random ? RandomKind::Normal : RandomKind::Uniform;
    return random_router(name, c_.random_seed, kind, hidden);
  }

  std::string expert_name(const LayerName& n, int layer, size_t e, const std::string& projection) const {
    const std::string layer_prefix = n.prefix + std::to_string(layer);
    if (!arch_->mixtral_names) return layer_prefix + ".mlp.experts." + std::to_string(e) + "." + projection + ".weight";
    const char* w = projection == "gate_proj" ? "w1" : projection == "down_proj" ? "w2" : "w3";
    return layer_prefix + ".block_sparse_moe.experts." + std::to_string(e) + "." + w + ".weight";
  }

  // One expert's copy of a base MLP tensor, from its own model.
  OutputTensor expert_tensor(const MoeExpert& e, const ModelTensor& base_mlp, const std::string& projection,
                             const std::string& name) {
    const Model& m = plan_.model(e.source_model);
    const ModelTensor* t = m.find(base_mlp.info.name);
    if (!t) fail(m.path, base_mlp.info.name, "is missing: the expert's MLP must match the base's");
    if (t->info.shape != base_mlp.info.shape || !is_mergeable(t->info.dtype))
      fail(t->source->name(), t->info.name, "has another shape or dtype than in the base " + base_->path);
    OutputTensor out = copied(c_, *t, name);
    out.info.dtype = c_.dtype.value_or(base_mlp.info.dtype);
    const bool scaled = projection == "down_proj" && e.residual_scale && *e.residual_scale != 1.0;
    const bool noisy = e.noise_scale && *e.noise_scale != 0.0;
    if (scaled || noisy || out.info.dtype != t->info.dtype) {
      out.action = TensorAction::Merge;
      out.copy_from = nullptr;
    }
    if (scaled) out.inputs[0].params.set("scale", *e.residual_scale);
    if (noisy) out.inputs[0].computed = noisy_tensor(*t, name, c_.random_seed, *e.noise_scale);
    return out;
  }

  // A layer's MLP becomes: the router, each expert's MLP, then the shared expert and its gate.
  void add_experts(const LayerName& n, const std::vector<const ModelTensor*>& mlp) {
    const int layer = n.layer;
    const ModelTensor& first = *mlp.front();
    if (first.info.shape.size() != 2) fail(base_->path, first.info.name, "is not a matrix");
    const uint64_t hidden = first.info.shape[1];
    const DType dtype = c_.dtype.value_or(first.info.dtype);
    const std::string prefix = n.prefix + std::to_string(layer);
    const std::string gate = prefix + (arch_->mixtral_names ? ".block_sparse_moe.gate.weight" : ".mlp.gate.weight");
    plan_.outputs.push_back(computed(gate, {c_.experts.size(), hidden}, dtype, router(gate, layer, 0, hidden)));
    for (size_t e = 0; e < c_.experts.size(); ++e)
      for (const ModelTensor* t : mlp) {
        const std::string projection = projection_of(*base_, *t, *parse_layer_name(t->info.name));
        plan_.outputs.push_back(expert_tensor(c_.experts[e], *t, projection, expert_name(n, layer, e, projection)));
      }
    if (!arch_->shared_expert) return;
    for (const ModelTensor* t : mlp) {
      const std::string projection = projection_of(*base_, *t, *parse_layer_name(t->info.name));
      plan_.outputs.push_back(expert_tensor(c_.shared_experts.front(), *t, projection,
                                            prefix + ".mlp.shared_expert." + projection + ".weight"));
    }
    const std::string shared_gate = prefix + ".mlp.shared_expert_gate.weight";
    plan_.outputs.push_back(computed(shared_gate, {1, hidden}, dtype,
                                     router(shared_gate, layer, static_cast<int>(c_.experts.size()), hidden)));
  }

  // Qwen2-MoE always has q/k/v biases: zeros where the base has none (mergekit does the same).
  void add_missing_bias(const ModelTensor& t) {
    static const char* const kAttention[] = {".self_attn.q_proj.weight", ".self_attn.k_proj.weight",
                                             ".self_attn.v_proj.weight"};
    const std::string& name = t.info.name;
    for (const char* suffix : kAttention) {
      const std::string s = suffix;
      if (name.size() < s.size() || name.compare(name.size() - s.size(), s.size(), s) != 0) continue;
      const std::string bias = name.substr(0, name.size() - std::string("weight").size()) + "bias";
      if (base_->find(bias)) return;
      plan_.outputs.push_back(computed(bias, {t.info.shape.at(0)}, c_.dtype.value_or(t.info.dtype), zero_tensor(bias)));
    }
  }

  void map_tensors() {
    std::vector<int> done;  // layers whose MLP is placed
    for (const ModelTensor& t : base_->tensors) {
      const auto n = parse_layer_name(t.info.name);
      if (n && n->suffix.rfind(".mlp.", 0) == 0) {
        if (std::find(done.begin(), done.end(), n->layer) != done.end()) continue;
        std::vector<const ModelTensor*> mlp;
        for (const ModelTensor& u : base_->tensors) {
          const auto m = parse_layer_name(u.info.name);
          if (m && m->layer == n->layer && m->prefix == n->prefix && m->suffix.rfind(".mlp.", 0) == 0)
            mlp.push_back(&u);
        }
        add_experts(*n, mlp);
        done.push_back(n->layer);
        continue;
      }
      plan_.outputs.push_back(copied(c_, t, t.info.name));
      if (arch_->shared_expert && n) add_missing_bias(t);
    }
    if (done.empty()) fail(base_->path, "", "has no layer MLP (model.layers.N.mlp.*) to make experts of");
  }

  void edit_config(const BaseConfig& base) {
    auto& keys = plan_.config_edits.set_keys;
    auto set = [&](const std::string& key, const json& value) { keys.emplace_back(key, value.dump()); };
    const size_t experts = c_.experts.size();
    set("architectures", json::array({arch_->hf_class}));
    set("model_type", arch_->model_type);
    set(arch_->experts_key, experts);
    set("num_experts_per_tok", c_.experts_per_token);
    set("sliding_window", nullptr);
    if (arch_->mixtral_names) return;
    const json intermediate = base.values.contains("intermediate_size") ? base.values["intermediate_size"] : json();
    set("decoder_sparse_step", 1);
    set("norm_topk_prob", true);
    if (arch_->shared_expert) {
      set("use_sliding_window", false);
      set("shared_expert_intermediate_size", intermediate);
    }
    set("moe_intermediate_size", intermediate);
  }

  void warn() {
    auto& w = plan_.warnings;
    w.insert(w.end(), c_.warnings.begin(), c_.warnings.end());
    const size_t experts = c_.experts.size();
    if ((experts & (experts - 1)) != 0)
      w.push_back(std::to_string(experts) + " experts is not a power of two: llama.cpp cannot load the model");
    const std::string& first = c_.experts.front().source_model;
    if (std::all_of(c_.experts.begin(), c_.experts.end(),
                    [&](const MoeExpert& e) { return e.source_model == first && !e.noise_scale; }))
      w.push_back("every expert is " + first +
                  ": the experts stay identical until the model is trained further (that is sparse upcycling)");
  }

  MergePlan& plan_;
  const MoeConfig& c_;
  InputFiles& files_;
  const PromptTokens& tokens_;
  const Model* base_ = nullptr;
  const OutputArchitecture* arch_ = nullptr;
  std::shared_ptr<GateTable> table_;
};

}  // namespace

MergePlan make_moe_plan(MoeConfig config, InputFiles& files, uint64_t out_shard_size, const std::string& config_text,
                        const PromptTokens& prompt_tokens) {
  MergePlan plan;
  plan.config.method = &passthrough_method();
  plan.config.base_model = config.base_model;
  plan.config.dtype = config.dtype;
  plan.config.random_seed = config.random_seed;
  auto summary = std::make_shared<MoeSummary>();
  summary->config = std::move(config);
  summary->architecture = MoePlanner(plan, summary->config, files, prompt_tokens).run();
  plan.moe = summary;
  lay_out_plan(plan, out_shard_size, config_text);
  return plan;
}

}  // namespace wasmerge
