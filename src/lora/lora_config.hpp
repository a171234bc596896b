#pragma once
// adapter_config.json: the fields of a PEFT LoraConfig that change the merged weights.
#include <string>
#include <utility>
#include <vector>

namespace wasmerge {

struct LoraConfig {
  std::string file;  // for messages
  int r = 8;         // PEFT's defaults
  double lora_alpha = 8;
  bool use_rslora = false;
  bool fan_in_fan_out = false;
  bool use_dora = false;
  bool lora_bias = false;
  std::vector<std::pair<std::string, int>> rank_pattern;  // in the file's order: the first match wins
  std::vector<std::pair<std::string, double>> alpha_pattern;

  int rank_of(const std::string& module) const;
  double alpha_of(const std::string& module) const;
  // s = alpha / r, or alpha / √r with rsLoRA, for the module's own r and alpha.
  double scale_of(const std::string& module) const;
};

// PEFT's pattern rule: key K applies to module M iff M matches the regex (.*\.)?(K)$.
bool pattern_matches(const std::string& key, const std::string& module);

LoraConfig parse_lora_config(const std::string& text, const std::string& file);

}  // namespace wasmerge
