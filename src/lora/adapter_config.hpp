#pragma once
// adapter_config.json of an extracted adapter (PEFT's LoraConfig fields, as mergekit writes them).
#include <map>
#include <set>
#include <string>
#include <vector>

namespace wasmerge {

struct AdapterSummary {
  std::string base_model;
  size_t requested_rank = 0;
  std::map<std::string, size_t> module_ranks;  // adapted module -> its rank
  std::set<std::string> saved_modules;         // modules_to_save
  std::vector<std::string> model_modules;      // every module of the model (names minus the last part)
  bool lora_bias = false;
};

std::string adapter_config_json(const AdapterSummary& summary);

// The shortest names that select exactly `chosen` among `all` by PEFT's suffix rule: a
// module's last name part when every module ending in it is chosen, else the full names.
std::vector<std::string> module_selectors(const std::set<std::string>& chosen, const std::vector<std::string>& all);

}  // namespace wasmerge
