#include "lora/adapter_config.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace wasmerge {
namespace {

using json = nlohmann::ordered_json;

std::string last_part(const std::string& module) {
  const size_t dot = module.rfind('.');
  return dot == std::string::npos ? module : module.substr(dot + 1);
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::vector<std::string> module_selectors(const std::set<std::string>& chosen, const std::vector<std::string>& all) {
  std::set<std::string> out;
  for (const auto& module : chosen) {
    const std::string part = last_part(module);
    // Plain endswith, the looser of PEFT's rules over its versions: "norm" also ends "input_layernorm".
    const bool whole = std::all_of(all.begin(), all.end(),
                                   [&](const std::string& m) { return !ends_with(m, part) || chosen.count(m); });
    out.insert(whole ? part : module);
  }
  return {out.begin(), out.end()};
}

std::string adapter_config_json(const AdapterSummary& s) {
  size_t r = 0;
  std::set<std::string> targets;
  for (const auto& item : s.module_ranks) {
    r = std::max(r, item.second);
    targets.insert(item.first);
  }
  if (r == 0) r = s.requested_rank;
  json rank_pattern = json::object();
  for (const auto& item : s.module_ranks)
    if (item.second != r) rank_pattern[item.first] = item.second;
  json config;
  config["peft_type"] = "LORA";
  config["task_type"] = "CAUSAL_LM";
  config["base_model_name_or_path"] = s.base_model;
  config["r"] = r;
  config["lora_alpha"] = r;
  config["target_modules"] = module_selectors(targets, s.model_modules);
  config["rank_pattern"] = rank_pattern;
  config["alpha_pattern"] = rank_pattern;  // alpha = rank for every module: scale 1
  config["modules_to_save"] =
      s.saved_modules.empty() ? json(nullptr) : json(module_selectors(s.saved_modules, s.model_modules));
  config["lora_dropout"] = 0.0;
  config["bias"] = "none";
  config["lora_bias"] = s.lora_bias;
  config["fan_in_fan_out"] = false;
  config["use_rslora"] = false;
  config["use_dora"] = false;
  config["init_lora_weights"] = true;
  config["inference_mode"] = true;
  return config.dump(2) + "\n";
}

}  // namespace wasmerge
