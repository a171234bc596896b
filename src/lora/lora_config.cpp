// adapter_config.json, read with its keys in the file's order (rank_pattern's first match
// wins, as in PEFT's get_pattern_key).
#include "lora/lora_config.hpp"

#include <cmath>
#include <nlohmann/json.hpp>
#include <regex>

#include "wasmerge/error.hpp"

namespace wasmerge {
namespace {

using json = nlohmann::ordered_json;

bool flag(const json& c, const char* key, const std::string& file) {
  if (!c.contains(key) || c[key].is_null()) return false;
  if (!c[key].is_boolean()) fail(file, "", std::string(key) + " is not true or false");
  return c[key].get<bool>();
}

int rank_value(const json& v, const std::string& file, const std::string& what) {
  if (!v.is_number_integer() || v.get<int64_t>() <= 0 || v.get<int64_t>() > (1 << 24))
    fail(file, "", what + " is not a positive integer rank");
  return static_cast<int>(v.get<int64_t>());
}

double alpha_value(const json& v, const std::string& file, const std::string& what) {
  if (!v.is_number() || !std::isfinite(v.get<double>())) fail(file, "", what + " is not a finite number");
  return v.get<double>();
}

std::regex pattern_regex(const std::string& key) { return std::regex("(.*\\.)?(" + key + ")"); }

template <typename T, typename Read>
std::vector<std::pair<std::string, T>> patterns(const json& c, const char* key, const std::string& file, Read read) {
  std::vector<std::pair<std::string, T>> out;
  if (!c.contains(key) || c[key].is_null()) return out;
  if (!c[key].is_object()) fail(file, "", std::string(key) + " is not an object of module patterns");
  for (const auto& item : c[key].items()) {
    try {
      pattern_regex(item.key());
    } catch (const std::regex_error&) {
      fail(file, "", std::string(key) + " key '" + item.key() + "' is not a regular expression");
    }
    out.emplace_back(item.key(), read(item.value(), file, std::string(key) + " '" + item.key() + "'"));
  }
  return out;
}

}  // namespace

bool pattern_matches(const std::string& key, const std::string& module) {
  return std::regex_match(module, pattern_regex(key));
}

int LoraConfig::rank_of(const std::string& module) const {
  for (const auto& p : rank_pattern)
    if (pattern_matches(p.first, module)) return p.second;
  return r;
}

double LoraConfig::alpha_of(const std::string& module) const {
  for (const auto& p : alpha_pattern)
    if (pattern_matches(p.first, module)) return p.second;
  return lora_alpha;
}

double LoraConfig::scale_of(const std::string& module) const {
  const double rank = rank_of(module);
  return alpha_of(module) / (use_rslora ? std::sqrt(rank) : rank);
}

LoraConfig parse_lora_config(const std::string& text, const std::string& file) {
  const json c = json::parse(text, nullptr, false);
  if (c.is_discarded()) fail(file, "", "is not valid JSON");
  if (!c.is_object()) fail(file, "", "is not a JSON object");
  if (!c.contains("peft_type")) fail(file, "", "has no peft_type: not a PEFT adapter config");
  if (!c["peft_type"].is_string() || c["peft_type"].get<std::string>() != "LORA")
    fail(file, "", "peft_type is " + c["peft_type"].dump() + ": only LoRA adapters (\"LORA\") can be merged in");
  LoraConfig config;
  config.file = file;
  if (c.contains("r")) config.r = rank_value(c["r"], file, "r");
  if (c.contains("lora_alpha")) config.lora_alpha = alpha_value(c["lora_alpha"], file, "lora_alpha");
  config.use_rslora = flag(c, "use_rslora", file);
  config.fan_in_fan_out = flag(c, "fan_in_fan_out", file);
  config.use_dora = flag(c, "use_dora", file);
  config.lora_bias = flag(c, "lora_bias", file);
  config.rank_pattern = patterns<int>(c, "rank_pattern", file, rank_value);
  config.alpha_pattern = patterns<double>(c, "alpha_pattern", file, alpha_value);
  return config;
}

}  // namespace wasmerge
