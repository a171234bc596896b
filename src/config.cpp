// mergekit's config schema. Errors here name the key and the model they concern; what a
// parameter may be (its kind, range, whether it is required) comes from the method.
#include "wasmerge/config.hpp"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "tokenizer_keys.hpp"
#include "wasmerge/error.hpp"

namespace wasmerge {
namespace {

using json = nlohmann::json;

// mergekit methods this project has not implemented yet get their own message.
// mergekit keys this project has not implemented get their own message, naming them.
const std::map<std::string, std::string> kUnsupportedKeys = {
    {"modules", "'modules' (per-module merges of multi-module architectures) is not supported yet by wasmerge"}};
const std::set<std::string> kTopLevelKeys = {
    "merge_method", "base_model", "models",    "slices",        "parameters", "dtype",          "out_dtype",
    "random_seed",  "name",       "tokenizer", "chat_template", "tokenizer_source", "allow_nonfinite"};

[[noreturn]] void config_error(const std::string& what) { fail("config", "", what); }

// The description of a parameter name: the method's own, else any method's (a parameter
// another method reads is accepted with a warning, as mergekit ignores it).
const ParamSpec* spec_of(const MergeMethod& method, const std::string& name) {
  if (const ParamSpec* own = method.param(name)) return own;
  for (const MergeMethod* m : all_methods())
    if (const ParamSpec* other = m->param(name)) return other;
  return nullptr;
}

double number_of(const json& v, const std::string& context) {
  if (v.is_boolean()) return v.get<bool>() ? 1.0 : 0.0;
  if (!v.is_number()) config_error(context + " must be a number, a list of numbers or a list of {filter, value}");
  const double d = v.get<double>();
  if (!std::isfinite(d)) config_error(context + " is not a finite number");
  return d;
}

std::string choices_text(const std::vector<std::string>& choices) {
  std::string s;
  for (size_t i = 0; i < choices.size(); ++i)
    s += (i ? (i + 1 == choices.size() ? " or " : ", ") : "") + ("'" + choices[i] + "'");
  return s;
}

Parameter parse_parameter(const ParamSpec& spec, const json& v, const std::string& context) {
  Parameter p;
  if (spec.kind == ParamSpec::Kind::Choice) {
    auto it =
        v.is_string() ? std::find(spec.choices.begin(), spec.choices.end(), v.get<std::string>()) : spec.choices.end();
    if (it == spec.choices.end()) config_error(context + ": " + spec.name + " must be " + choices_text(spec.choices));
    p.values = {static_cast<double>(it - spec.choices.begin())};
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
      f.value = parse_parameter(spec, entry["value"], context);
      p.filtered.push_back(std::move(f));
    }
    return p;
  }
  if (v.is_array()) {
    if (v.empty()) config_error(context + " is an empty list");
    for (const auto& x : v) p.values.push_back(number_of(x, context));
    return p;
  }
  p.values = {number_of(v, context)};
  return p;
}

std::string range_text(const ParamSpec& s) {
  auto num = [](std::optional<double> v) {
    if (!v) return std::string("∞");
    return *v == std::floor(*v) ? std::to_string(static_cast<long long>(*v)) : json(*v).dump();
  };
  return std::string(s.min_exclusive ? "(" : "[") + num(s.min) + ", " + num(s.max) + "]";
}

void check_range(const ParamSpec& spec, const Parameter& p, const std::string& owner) {
  for (double d : p.all_values())
    if ((spec.min && (spec.min_exclusive ? !(d > *spec.min) : !(d >= *spec.min))) || (spec.max && !(d <= *spec.max)))
      config_error(owner + ": " + spec.name + " " + json(d).dump() + " is outside " + range_text(spec));
}

// owner names where the parameters sit, for messages: "parameters", "model './a'".
Parameters parse_parameters(MergeConfig& c, const json& v, const std::string& owner, bool per_model) {
  if (v.is_null()) return {};
  if (!v.is_object()) config_error(owner + " parameters must be a map");
  Parameters out;
  const std::string context = owner == "parameters" ? owner : owner + " parameters";
  for (const auto& [name, value] : v.items()) {
    const ParamSpec* spec = spec_of(*c.method, name);
    if (!spec) config_error(context + ": unknown parameter '" + name + "'");
    if (!c.method->param(name))
      c.warnings.push_back(owner + ": parameter '" + name + "' is not used by " + std::string(c.method->name()));
    else if (per_model && spec->scope == ParamSpec::Scope::Global)
      c.warnings.push_back(owner + ": '" + name + "' is a global parameter; its value here is not used");
    out[name] = parse_parameter(*spec, value, context + ": " + name);
    if (c.method->param(name)) check_range(*spec, out[name], owner);
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

std::pair<int, int> parse_layer_range(const json& v, const std::string& model) {
  if (!v.is_array() || v.size() != 2 || !v[0].is_number_integer() || !v[1].is_number_integer())
    config_error("model '" + model + "': layer_range must be two integers [first, end)");
  const auto a = v[0].get<int64_t>(), b = v[1].get<int64_t>();
  if (a < 0 || b < a || b > 1'000'000)
    config_error("model '" + model + "': layer_range [" + std::to_string(a) + ", " + std::to_string(b) +
                 "] must have 0 <= first <= end");
  return {static_cast<int>(a), static_cast<int>(b)};
}

void parse_models(MergeConfig& c, const json& models) {
  if (!models.is_array()) config_error("models must be a list");
  Slice slice;
  if (c.base_model) slice.base = SliceSource{*c.base_model, std::nullopt, {}};
  for (const auto& entry : models) {
    if (!entry.is_object() || !entry.contains("model")) config_error("each entry of models needs a 'model'");
    for (const auto& [key, _] : entry.items())
      if (key != "model" && key != "parameters") config_error("unknown key '" + key + "' in a models entry");
    SliceSource m;
    m.model = model_path(entry["model"], "model");
    m.parameters = parse_parameters(c, entry.value("parameters", json()), "model '" + m.model + "'", true);
    if (c.base_model && m.model == *c.base_model) continue;  // the base takes part in no weighting
    slice.sources.push_back(std::move(m));
  }
  if (slice.sources.empty()) config_error("models lists nothing to merge besides the base");
  c.slices.push_back(std::move(slice));
}

void parse_slices(MergeConfig& c, const json& slices) {
  if (!slices.is_array() || slices.empty()) config_error("slices must be a non-empty list");
  c.uses_slices = true;
  for (size_t s = 0; s < slices.size(); ++s) {
    const std::string where_slice = "slice " + std::to_string(s + 1);
    const json& entry = slices[s];
    if (!entry.is_object() || !entry.contains("sources") || !entry["sources"].is_array() || entry["sources"].empty())
      config_error(where_slice + " needs a non-empty list of sources");
    for (const auto& [key, _] : entry.items())
      if (key != "sources" && key != "parameters") config_error("unknown key '" + key + "' in " + where_slice);
    Slice slice;
    slice.parameters = parse_parameters(c, entry.value("parameters", json()), where_slice, false);
    for (const auto& src : entry["sources"]) {
      if (!src.is_object() || !src.contains("model"))
        config_error("each source of " + where_slice + " needs a 'model'");
      for (const auto& [key, _] : src.items())
        if (key != "model" && key != "layer_range" && key != "parameters")
          config_error("unknown key '" + key + "' in a source of " + where_slice);
      SliceSource source;
      source.model = model_path(src["model"], "model");
      if (!src.contains("layer_range"))
        config_error("model '" + source.model + "' in " + where_slice + " needs a layer_range");
      source.layer_range = parse_layer_range(src["layer_range"], source.model);
      source.parameters = parse_parameters(c, src.value("parameters", json()), "model '" + source.model + "'", true);
      const bool is_base = c.uses_base() && source.model == *c.base_model;
      if (is_base && slice.base) config_error(where_slice + " names base_model '" + source.model + "' twice");
      if (is_base)
        slice.base = std::move(source);
      else
        slice.sources.push_back(std::move(source));
    }
    if (c.uses_base() && !slice.base)
      config_error(where_slice + " has no source from base_model '" + *c.base_model + "', which " +
                   std::string(c.method->name()) + " needs");
    c.slices.push_back(std::move(slice));
  }
}

// The model count the method takes, and its required parameters, for every model.
void check_models(const MergeConfig& c) {
  const MergeMethod& m = *c.method;
  const ModelCount count = m.models();
  for (size_t s = 0; s < c.slices.size(); ++s) {
    const Slice& slice = c.slices[s];
    const size_t n = slice.sources.size();
    if (n < count.min || (count.max && n > *count.max)) {
      const std::string what = count.max && *count.max == count.min ? "exactly " + std::to_string(count.min)
                               : count.max ? "from " + std::to_string(count.min) + " to " + std::to_string(*count.max)
                                           : "at least " + std::to_string(count.min);
      const std::string besides = c.uses_base() ? " besides base_model" : "";
      config_error(std::string(m.name()) + " takes " + what + (count.min == 1 && count.max == 1 ? " model" : " models") +
                   besides + (c.uses_slices ? " per slice; slice " + std::to_string(s + 1) + " has " : ", not ") +
                   std::to_string(n));
    }
    for (const SliceSource& source : slice.sources)
      for (const ParamSpec& spec : m.params()) {
        if (!spec.required) continue;
        if (source.parameters.count(spec.name) || slice.parameters.count(spec.name) || c.parameters.count(spec.name))
          continue;
        if (spec.scope == ParamSpec::Scope::Global)
          config_error("parameter '" + spec.name + "' is required by " + std::string(m.name()) + " (under parameters:)");
        config_error("model '" + source.model + "': parameter '" + spec.name + "' is required by " +
                     std::string(m.name()));
      }
  }
}

}  // namespace

DType MergeConfig::output_dtype(DType base_dtype) const {
  if (out_dtype) return *out_dtype;
  if (dtype) return *dtype;
  return base_dtype;
}

bool MergeConfig::uses_base() const { return base_model && method->takes_base(); }

std::vector<std::string> MergeConfig::merged_models() const {
  std::vector<std::string> out;
  for (const Slice& slice : slices)
    for (const SliceSource& s : slice.sources)
      if (std::find(out.begin(), out.end(), s.model) == out.end()) out.push_back(s.model);
  return out;
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
    if (kUnsupportedKeys.count(key)) config_error(kUnsupportedKeys.at(key));
    if (!kTopLevelKeys.count(key)) config_error("unknown key '" + key + "'");
  }

  MergeConfig c;
  if (!root.contains("merge_method") || !root["merge_method"].is_string()) config_error("merge_method is missing");
  const std::string method = root["merge_method"].get<std::string>();
  c.method = find_method(method);
  if (!c.method) {
    std::string known;
    for (const MergeMethod* m : all_methods()) known += (known.empty() ? "" : ", ") + std::string(m->name());
    config_error("unknown merge_method '" + method + "' (known: " + known + ")");
  }

  if (root.contains("base_model") && !root["base_model"].is_null())
    c.base_model = model_path(root["base_model"], "base_model");
  if (c.method->needs_base() && !c.base_model) config_error(method + " needs a base_model");

  c.parameters = parse_parameters(c, root.value("parameters", json()), "parameters", false);
  const bool has_models = root.contains("models"), has_slices = root.contains("slices");
  if (has_models && has_slices) config_error("give either models or slices, not both");
  if (has_slices)
    parse_slices(c, root["slices"]);
  else if (has_models)
    parse_models(c, root["models"]);
  else
    config_error("models must be a list");
  check_models(c);

  c.dtype = parse_dtype(root, "dtype");
  c.out_dtype = parse_dtype(root, "out_dtype");
  if (root.contains("random_seed")) {
    if (!root["random_seed"].is_number_unsigned()) config_error("random_seed must be a non-negative integer");
    c.random_seed = root["random_seed"].get<uint64_t>();
  }
  parse_tokenizer_keys(root, c);
  if (root.contains("allow_nonfinite")) {
    if (!root["allow_nonfinite"].is_boolean()) config_error("allow_nonfinite must be true or false");
    c.allow_nonfinite = root["allow_nonfinite"].get<bool>();
  }
  return c;
}

}  // namespace wasmerge
