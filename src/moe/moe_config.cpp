// mergekit-moe's config: the keys mergekit's MoEMergeConfig and Expert take (plus our
// random_seed), and its checks that need no file (mergekit's is_bad_config).
#include "wasmerge/moe_config.hpp"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "wasmerge/error.hpp"

namespace wasmerge {
namespace {

using json = nlohmann::json;

const std::set<std::string> kTopLevelKeys = {"base_model",   "experts",           "gate_mode",
                                             "dtype",        "experts_per_token", "shared_experts",
                                             "architecture", "random_seed",       "name"};
const std::set<std::string> kExpertKeys = {"source_model", "positive_prompts", "negative_prompts", "noise_scale",
                                           "residual_scale"};
constexpr GateMode kGateModes[] = {GateMode::Hidden,     GateMode::HiddenAvg, GateMode::HiddenLast,
                                   GateMode::CheapEmbed, GateMode::Random,    GateMode::UniformRandom};

[[noreturn]] void config_error(const std::string& what) { fail("config", "", what); }

std::string path_of(const json& v, const std::string& context) {
  if (!v.is_string() || v.get<std::string>().empty()) config_error(context + " must be a path");
  return v.get<std::string>();
}

std::vector<std::string> prompts_of(const json& entry, const char* key, const std::string& owner) {
  std::vector<std::string> prompts;
  if (!entry.contains(key) || entry[key].is_null()) return prompts;
  const json& list = entry[key];
  if (!list.is_array()) config_error(owner + ": " + key + " must be a list of strings");
  for (const auto& p : list) {
    if (!p.is_string()) config_error(owner + ": " + key + " must be a list of strings");
    prompts.push_back(p.get<std::string>());
  }
  return prompts;
}

std::optional<double> scale_of(const json& entry, const char* key, const std::string& owner) {
  if (!entry.contains(key) || entry[key].is_null()) return std::nullopt;
  const json& v = entry[key];
  if (!v.is_number() || !std::isfinite(v.get<double>())) config_error(owner + ": " + key + " must be a number");
  return v.get<double>();
}

MoeExpert parse_expert(const json& entry, const std::string& owner) {
  if (!entry.is_object() || !entry.contains("source_model")) config_error(owner + " needs a source_model");
  for (const auto& item : entry.items())
    if (!kExpertKeys.count(item.key())) config_error(owner + ": unknown key '" + item.key() + "'");
  MoeExpert e;
  e.source_model = path_of(entry["source_model"], owner + ": source_model");
  e.positive_prompts = prompts_of(entry, "positive_prompts", owner);
  e.negative_prompts = prompts_of(entry, "negative_prompts", owner);
  e.noise_scale = scale_of(entry, "noise_scale", owner);
  e.residual_scale = scale_of(entry, "residual_scale", owner);
  return e;
}

std::vector<MoeExpert> parse_experts(const json& root, const char* key, const std::string& noun) {
  std::vector<MoeExpert> out;
  if (!root.contains(key) || root[key].is_null()) return out;
  if (!root[key].is_array()) config_error(std::string(key) + " must be a list");
  for (size_t i = 0; i < root[key].size(); ++i)
    out.push_back(parse_expert(root[key][i], noun + " " + std::to_string(i + 1)));
  return out;
}

GateMode parse_gate_mode(const json& root) {
  if (!root.contains("gate_mode") || root["gate_mode"].is_null()) return GateMode::Hidden;
  const json& v = root["gate_mode"];
  std::string known;
  for (GateMode m : kGateModes) {
    if (v.is_string() && v.get<std::string>() == gate_mode_name(m)) return m;
    known += (known.empty() ? "" : ", ") + std::string(gate_mode_name(m));
  }
  config_error("gate_mode " + v.dump() + " is not one of " + known);
}

// mergekit's is_bad_config, each as one line.
void check_prompts(const MoeConfig& c) {
  if (!uses_prompts(c.gate_mode)) return;
  const std::string mode = gate_mode_name(c.gate_mode);
  for (size_t i = 0; i < c.experts.size(); ++i)
    if (c.experts[i].positive_prompts.empty())
      config_error("expert " + std::to_string(i + 1) + " (" + c.experts[i].source_model +
                   ") has no positive_prompts, which gate_mode '" + mode + "' routes by");
  for (const MoeExpert& e : c.shared_experts)
    if (e.positive_prompts.empty())
      config_error("the shared expert (" + e.source_model + ") has no positive_prompts, which gate_mode '" + mode +
                   "' routes by");
  auto prompts = [](const MoeExpert& e) { return std::make_pair(e.positive_prompts, e.negative_prompts); };
  if (c.experts.size() > 1 && std::all_of(c.experts.begin() + 1, c.experts.end(),
                                          [&](const MoeExpert& e) { return prompts(e) == prompts(c.experts.front()); }))
    config_error(
        "every expert has the same prompts: the router could not tell them apart (give each expert "
        "prompts for what it should receive)");
}

}  // namespace

const char* gate_mode_name(GateMode mode) {
  switch (mode) {
    case GateMode::Hidden: return "hidden";
    case GateMode::HiddenAvg: return "hidden_avg";
    case GateMode::HiddenLast: return "hidden_last";
    case GateMode::CheapEmbed: return "cheap_embed";
    case GateMode::Random: return "random";
    case GateMode::UniformRandom: return "uniform_random";
  }
  return "?";
}

bool uses_prompts(GateMode mode) { return mode != GateMode::Random && mode != GateMode::UniformRandom; }
bool uses_forward_pass(GateMode mode) { return uses_prompts(mode) && mode != GateMode::CheapEmbed; }

std::vector<std::string> MoeConfig::models() const {
  std::vector<std::string> out = {base_model};
  for (const auto* list : {&experts, &shared_experts})
    for (const MoeExpert& e : *list)
      if (std::find(out.begin(), out.end(), e.source_model) == out.end()) out.push_back(e.source_model);
  return out;
}

bool is_moe_config(const std::string& json_text) {
  const json root = json::parse(json_text, nullptr, false);
  return root.is_object() && root.contains("experts") && !root.contains("merge_method");
}

MoeConfig parse_moe_config(const std::string& json_text) {
  const json root = json::parse(json_text, nullptr, false);
  if (root.is_discarded() || !root.is_object()) config_error("must be a map of keys (base_model, experts, ...)");
  for (const auto& item : root.items())
    if (!kTopLevelKeys.count(item.key()))
      config_error("unknown key '" + item.key() + "' in a mixture-of-experts config (mergekit-moe's keys: " +
                   "base_model, experts, gate_mode, experts_per_token, shared_experts, dtype, architecture)");
  MoeConfig c;
  if (!root.contains("base_model")) config_error("base_model is missing: the mixture of experts is built on it");
  c.base_model = path_of(root["base_model"], "base_model");
  c.experts = parse_experts(root, "experts", "expert");
  if (c.experts.empty()) config_error("experts must list at least one expert");
  c.shared_experts = parse_experts(root, "shared_experts", "shared expert");
  if (c.shared_experts.size() > 1)
    config_error("shared_experts lists " + std::to_string(c.shared_experts.size()) +
                 " experts; Qwen2-MoE has exactly one shared expert");
  c.gate_mode = parse_gate_mode(root);
  if (root.contains("experts_per_token") && !root["experts_per_token"].is_null()) {
    const json& k = root["experts_per_token"];
    if (!k.is_number_integer()) config_error("experts_per_token must be an integer");
    const int64_t n = k.get<int64_t>();
    if (n < 1 || n > static_cast<int64_t>(c.experts.size()))
      config_error("experts_per_token " + std::to_string(n) + " is outside [1, " + std::to_string(c.experts.size()) +
                   "] (the number of experts)");
    c.experts_per_token = static_cast<int>(n);
  } else if (c.experts.size() < 2) {
    config_error("experts lists 1 expert, fewer than experts_per_token's default of 2");
  }
  if (root.contains("dtype") && !root["dtype"].is_null()) {
    const json& v = root["dtype"];
    c.dtype = v.is_string() ? dtype_from_torch_name(v.get<std::string>()) : std::nullopt;
    if (!c.dtype) config_error("dtype must be float32, float16 or bfloat16, not " + v.dump());
  }
  if (root.contains("architecture") && !root["architecture"].is_null()) {
    if (!root["architecture"].is_string()) config_error("architecture must be a string (mixtral, qwen or qwen3)");
    c.architecture = root["architecture"].get<std::string>();
  }
  if (root.contains("random_seed")) {
    if (!root["random_seed"].is_number_unsigned()) config_error("random_seed must be a non-negative integer");
    c.random_seed = root["random_seed"].get<uint64_t>();
  }
  check_prompts(c);
  return c;
}

}  // namespace wasmerge
