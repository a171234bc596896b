// mergekit's config schema. Errors here name the key and the model they concern.
#include "wasmerge/config.hpp"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "wasmerge/error.hpp"

namespace wasmerge {
namespace {

using json = nlohmann::json;

struct MethodRow {
  Method method;
  const char* name;
  MethodTraits traits;
};

//                                               base   random magnitude consensus normalize rescale weight_req
constexpr MethodRow kMethods[] = {
    {Method::Linear, "linear", {false, false, false, false, true, false, false}},
    {Method::TaskArithmetic, "task_arithmetic", {true, false, false, false, false, false, true}},
    {Method::Ties, "ties", {true, false, true, true, true, false, true}},
    {Method::DareLinear, "dare_linear", {true, true, false, false, false, true, true}},
    {Method::DareTies, "dare_ties", {true, true, false, true, false, true, true}},
};

// mergekit methods this project has not implemented yet get their own message.
const std::set<std::string> kPlannedMethods = {"breadcrumbs", "breadcrumbs_ties", "della", "della_linear",
                                               "slerp",       "model_stock",      "passthrough", "nuslerp",
                                               "karcher",     "sce",              "nearswap",    "arcee_fusion"};
const std::set<std::string> kUnsupportedKeys = {"slices", "chat_template", "tokenizer", "modules"};
const std::set<std::string> kTopLevelKeys = {"merge_method", "base_model", "models",          "parameters", "dtype",
                                             "out_dtype",    "random_seed", "tokenizer_source", "name",
                                             "allow_nonfinite"};
const std::set<std::string> kParameterNames = {"weight", "density", "normalize", "lambda",
                                               "rescale", "rescale_mode", "int8_mask"};

[[noreturn]] void config_error(const std::string& what) { fail("config", "", what); }

double number_of(const json& v, const std::string& context) {
  if (v.is_boolean()) return v.get<bool>() ? 1.0 : 0.0;
  if (!v.is_number()) config_error(context + " must be a number, a list of numbers or a list of {filter, value}");
  const double d = v.get<double>();
  if (!std::isfinite(d)) config_error(context + " is not a finite number");
  return d;
}

Parameter parse_parameter(const std::string& name, const json& v, const std::string& context) {
  Parameter p;
  if (name == "rescale_mode") {
    // The one string-valued parameter: stored as 1 for the DARE paper's 1/d, 0 for L1.
    if (!v.is_string() || (v != "l1" && v != "inverse_density"))
      config_error(context + ": rescale_mode must be 'l1' or 'inverse_density'");
    p.values = {v == "inverse_density" ? 1.0 : 0.0};
    return p;
  }
  if (v.is_array() && !v.empty() && v.front().is_object()) {
    for (const auto& entry : v) {
      if (!entry.is_object() || !entry.contains("value"))
        config_error(context + ": each entry of a filter list needs a 'value'");
      for (const auto& [key, _] : entry.items())
        if (key != "filter" && key != "value") config_error(context + ": unknown key '" + key + "' in a filter entry");
      Parameter::Filtered f;
      if (entry.contains("filter")) {
        if (!entry["filter"].is_string()) config_error(context + ": filter must be a string");
        f.filter = entry["filter"].get<std::string>();
      }
      f.value = parse_parameter(name, entry["value"], context);
      p.filtered.push_back(std::move(f));
    }
    return p;
  }
  if (v.is_array()) {
    if (v.empty()) config_error(context + " is an empty list");
    for (const auto& x : v) p.values.push_back(number_of(x, context));
    return p;
  }
  p.is_bool = v.is_boolean();
  p.values = {number_of(v, context)};
  return p;
}

std::map<std::string, Parameter> parse_parameters(const json& v, const std::string& context) {
  if (v.is_null()) return {};
  if (!v.is_object()) config_error(context + " must be a map");
  std::map<std::string, Parameter> out;
  for (const auto& [name, value] : v.items()) {
    if (!kParameterNames.count(name)) config_error(context + ": unknown parameter '" + name + "'");
    out[name] = parse_parameter(name, value, context + ": " + name);
  }
  return out;
}

std::optional<DType> parse_dtype(const json& root, const char* key) {
  if (!root.contains(key) || root[key].is_null()) return std::nullopt;
  const auto& v = root[key];
  auto t = v.is_string() ? dtype_from_torch_name(v.get<std::string>()) : std::nullopt;
  if (!t) config_error(std::string(key) + " must be float32, float16 or bfloat16, not " + v.dump());
  return t;
}

std::string model_path(const json& v, const std::string& context) {
  if (!v.is_string() || v.get<std::string>().empty()) config_error(context + " must be a path");
  return v.get<std::string>();
}

void check_parameters(const MergeConfig& c) {
  const MethodTraits& tr = traits(c.method);
  auto lookup = [&](const ModelEntry& m, const std::string& name) -> const Parameter* {
    if (auto it = m.parameters.find(name); it != m.parameters.end()) return &it->second;
    if (auto it = c.parameters.find(name); it != c.parameters.end()) return &it->second;
    return nullptr;
  };
  for (const auto& m : c.models) {
    const std::string context = "model '" + m.path + "'";
    if (tr.weight_required && !lookup(m, "weight"))
      config_error(context + ": parameter 'weight' is required by " + method_name(c.method));
    if (const Parameter* density = lookup(m, "density"))  // optional: mergekit's default is 1
      for (double d : density->all_values())
        if (!(d > 0 && d <= 1)) config_error(context + ": density " + json(d).dump() + " is outside (0, 1]");
  }
}

}  // namespace

const char* method_name(Method m) { return kMethods[static_cast<int>(m)].name; }
const MethodTraits& traits(Method m) { return kMethods[static_cast<int>(m)].traits; }

DType MergeConfig::output_dtype(DType base_dtype) const {
  if (out_dtype) return *out_dtype;
  if (dtype) return *dtype;
  return base_dtype;
}

MergeConfig parse_config(const std::string& json_text) {
  json root;
  try {
    root = json::parse(json_text);
  } catch (const json::exception& e) {
    config_error(std::string("not valid JSON (") + e.what() + ")");
  }
  if (!root.is_object()) config_error("must be a map of keys (merge_method, models, ...)");
  for (const auto& [key, _] : root.items()) {
    if (kUnsupportedKeys.count(key)) config_error("'" + key + "' is not supported yet by wasmerge");
    if (!kTopLevelKeys.count(key)) config_error("unknown key '" + key + "'");
  }

  MergeConfig c;
  if (!root.contains("merge_method") || !root["merge_method"].is_string()) config_error("merge_method is missing");
  const std::string method = root["merge_method"].get<std::string>();
  auto row = std::find_if(std::begin(kMethods), std::end(kMethods), [&](const MethodRow& r) { return method == r.name; });
  if (row == std::end(kMethods)) {
    if (kPlannedMethods.count(method)) config_error("merge_method '" + method + "' is not supported yet by wasmerge");
    config_error("unknown merge_method '" + method + "' (known: linear, task_arithmetic, ties, dare_linear, dare_ties)");
  }
  c.method = row->method;

  if (root.contains("base_model") && !root["base_model"].is_null())
    c.base_model = model_path(root["base_model"], "base_model");
  if (traits(c.method).needs_base && !c.base_model) config_error(method + " needs a base_model");

  c.parameters = parse_parameters(root.value("parameters", json()), "parameters");
  if (!root.contains("models") || !root["models"].is_array()) config_error("models must be a list");
  for (const auto& entry : root["models"]) {
    if (!entry.is_object() || !entry.contains("model")) config_error("each entry of models needs a 'model'");
    for (const auto& [key, _] : entry.items())
      if (key != "model" && key != "parameters") config_error("unknown key '" + key + "' in a models entry");
    ModelEntry m;
    m.path = model_path(entry["model"], "model");
    m.parameters = parse_parameters(entry.value("parameters", json()), "model '" + m.path + "' parameters");
    if (c.base_model && m.path == *c.base_model) continue;  // the base takes part in no weighting
    c.models.push_back(std::move(m));
  }
  if (c.models.empty()) config_error("models lists nothing to merge besides the base");

  c.dtype = parse_dtype(root, "dtype");
  c.out_dtype = parse_dtype(root, "out_dtype");
  if (root.contains("random_seed")) {
    if (!root["random_seed"].is_number_unsigned()) config_error("random_seed must be a non-negative integer");
    c.random_seed = root["random_seed"].get<uint64_t>();
  }
  if (root.contains("tokenizer_source") && !root["tokenizer_source"].is_null()) {
    const auto& ts = root["tokenizer_source"];
    if (!ts.is_string()) config_error("tokenizer_source must be 'base' or a model path");
    c.tokenizer_source = ts.get<std::string>();
    if (c.tokenizer_source == "union") config_error("tokenizer_source 'union' is not supported yet by wasmerge");
  }
  if (root.contains("allow_nonfinite")) {
    if (!root["allow_nonfinite"].is_boolean()) config_error("allow_nonfinite must be true or false");
    c.allow_nonfinite = root["allow_nonfinite"].get<bool>();
  }
  check_parameters(c);
  return c;
}

}  // namespace wasmerge
