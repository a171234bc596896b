// Every merge method, once, in the order the page lists them; and the catalogue that
// the describe job reports to the hosts.
#include <nlohmann/json.hpp>

#include "wasmerge/method.hpp"

namespace wasmerge {

// One per file in src/methods/.
const MergeMethod& linear_method();
const MergeMethod& task_arithmetic_method();
const MergeMethod& ties_method();
const MergeMethod& dare_linear_method();
const MergeMethod& dare_ties_method();
const MergeMethod& breadcrumbs_method();
const MergeMethod& breadcrumbs_ties_method();
const MergeMethod& della_method();
const MergeMethod& della_linear_method();
const MergeMethod& sce_method();
const MergeMethod& arcee_fusion_method();
const MergeMethod& passthrough_method();
const MergeMethod& slerp_method();
const MergeMethod& nuslerp_method();
const MergeMethod& multislerp_method();
const MergeMethod& karcher_method();
const MergeMethod& model_stock_method();
const MergeMethod& nearswap_method();

const std::vector<const MergeMethod*>& all_methods() {
  static const std::vector<const MergeMethod*> methods = {
      &linear_method(),       &task_arithmetic_method(),  &ties_method(),       &dare_linear_method(),
      &dare_ties_method(),    &breadcrumbs_method(),      &breadcrumbs_ties_method(), &della_method(),
      &della_linear_method(), &sce_method(),              &slerp_method(),      &nuslerp_method(),
      &multislerp_method(),   &karcher_method(),          &model_stock_method(), &nearswap_method(),
      &arcee_fusion_method(), &passthrough_method()};
  return methods;
}

const MergeMethod* find_method(std::string_view name) {
  for (const MergeMethod* m : all_methods())
    if (m->name() == name) return m;
  return nullptr;
}

const char* fact_name(Fact f) {
  switch (f) {
    case Fact::MagnitudeCuts: return "magnitude_cuts";
    case Fact::L1Norms: return "l1_norms";
    case Fact::DotProducts: return "dot_products";
    case Fact::RowBlocks: return "row_blocks";
  }
  return "";
}

std::optional<double> ParamValues::given(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

ParamSpec ParamSpec::number(std::string name, Scope scope, std::optional<double> def, bool required) {
  ParamSpec p;
  p.name = std::move(name);
  p.scope = scope;
  p.default_value = def;
  p.required = required;
  return p;
}

ParamSpec ParamSpec::boolean(std::string name, bool def) {
  ParamSpec p = number(std::move(name), Scope::Global, def ? 1.0 : 0.0);
  p.kind = Kind::Bool;
  return p;
}

const ParamSpec* MergeMethod::param(const std::string& name) const {
  for (const ParamSpec& p : params())
    if (p.name == name) return &p;
  return nullptr;
}

std::string MergeMethod::card_link() const { return "[" + std::string(title()) + "](" + std::string(url()) + ")"; }

namespace {

nlohmann::ordered_json param_json(const ParamSpec& p) {
  using json = nlohmann::ordered_json;
  const char* kinds[] = {"number", "bool", "choice"};
  json j = {{"name", p.name},
            {"scope", p.scope == ParamSpec::Scope::Global ? "global" : "model"},
            {"kind", kinds[static_cast<int>(p.kind)]}};
  if (!p.default_value)
    j["default"] = nullptr;
  else if (p.kind == ParamSpec::Kind::Bool)
    j["default"] = *p.default_value != 0;
  else if (p.kind == ParamSpec::Kind::Choice)
    j["default"] = p.choices.at(static_cast<size_t>(*p.default_value));
  else
    j["default"] = *p.default_value;
  j["required"] = p.required;
  if (p.min) j["min"] = *p.min;
  if (p.min_exclusive) j["min_exclusive"] = true;
  if (p.max) j["max"] = *p.max;
  if (!p.choices.empty()) j["choices"] = p.choices;
  return j;
}

}  // namespace

std::string methods_event_json() {
  using json = nlohmann::ordered_json;
  json methods = json::array();
  for (const MergeMethod* m : all_methods()) {
    json params = json::array(), needs = json::array();
    for (const ParamSpec& p : m->params()) params.push_back(param_json(p));
    for (Fact f : m->needs()) needs.push_back(fact_name(f));
    const ModelCount count = m->models();
    methods.push_back({{"name", m->name()},
                       {"title", m->title()},
                       {"url", m->url()},
                       {"summary", m->summary()},
                       {"formula", m->formula()},
                       {"models", {{"min", count.min}, {"max", count.max ? json(*count.max) : json(nullptr)}}},
                       {"needs_base", m->needs_base()},
                       {"takes_base", m->takes_base()},
                       {"needs", needs},
                       {"stages", m->stages()},
                       {"params", params}});
  }
  return json{{"event", "methods"}, {"methods", methods}}.dump();
}

}  // namespace wasmerge
