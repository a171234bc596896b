// The dry run's report: what a merge of this plan would write, from headers alone.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "wasmerge/moe_config.hpp"
#include "wasmerge/plan.hpp"
#include "pipeline/tensor_source.hpp"
#include "wasmerge/vocabulary.hpp"

namespace wasmerge {

std::string plan_event_json(const MergePlan& plan) {
  using json = nlohmann::ordered_json;
  json files = json::array();
  for (size_t i = 0; i < plan.shard_names.size(); ++i)
    files.push_back({{"name", plan.shard_names[i]}, {"bytes", plan.shard_bytes[i]}});
  json runs = json::array();
  for (const auto& run : plan.layer_runs) {
    json sources = json::array();
    for (const auto& s : run.sources)
      sources.push_back({{"model", s.model}, {"layers", {s.first, s.first + run.end - run.first}}});
    runs.push_back({{"output", {run.first, run.end}}, {"sources", sources}});
  }
  json edits = json::object();
  if (plan.config_edits.layers_changed) edits["num_hidden_layers"] = plan.config_edits.output_layers;
  if (plan.config_edits.torch_dtype) edits["torch_dtype"] = torch_dtype_name(*plan.config_edits.torch_dtype);
  if (plan.config_edits.vocab_size) edits["vocab_size"] = *plan.config_edits.vocab_size;
  for (const auto& key : plan.config_edits.set_keys) edits[key.first] = json::parse(key.second);
  json moe = nullptr;
  if (plan.moe)
    moe = {{"architecture", plan.moe->architecture},
           {"experts", plan.moe->config.experts.size()},
           {"experts_per_token", plan.moe->config.experts_per_token},
           {"shared_experts", plan.moe->config.shared_experts.size()},
           {"gate_mode", gate_mode_name(plan.moe->config.gate_mode)}};
  json vocabulary = nullptr;  // a vocabulary change: the output's tokens and what each model lacks
  if (const OutputVocabulary* v = plan.vocabulary.get()) {
    json appended = json::array();
    for (const auto& t : v->appended) appended.push_back(t.content);
    json models = json::array();
    for (const auto& m : plan.models) {
      const auto& rows = v->rows_of.at(m->path);
      models.push_back({{"model", m->path},
                        {"missing", std::count(rows.begin(), rows.end(), int64_t{-1})}});
    }
    vocabulary = {{"source", v->source}, {"tokenizer", v->tokenizer_model->path}, {"tokens", v->tokens.size()},
                  {"rows", v->rows}, {"appended", appended}, {"models", models}};
  }
  json chat_template = nullptr;
  if (plan.config.chat_template)
    chat_template = plan.config.chat_template->name.empty() ? "literal" : plan.config.chat_template->name;
  json tensors = json::array();
  for (const auto& out : plan.outputs) {
    json sources = json::array();
    auto add = [&](const ModelTensor* t) {
      sources.push_back({{"model", plan.owner(*t).path}, {"tensor", t->info.name}});
      if (t->computed) sources.back()["computed"] = t->computed->describe();  // an adapted model's
    };
    if (out.action == TensorAction::Copy) {
      add(out.copy_from);
    } else {
      if (out.base) add(out.base);
      for (const auto& in : out.inputs) {
        if (in.tensor) add(in.tensor);
        if (in.computed) {
          if (!in.tensor) sources.push_back(json::object());
          sources.back()["computed"] = in.computed->describe();
        }
      }
    }
    tensors.push_back({{"name", out.info.name},
                       {"dtype", dtype_name(out.info.dtype)},
                       {"shape", out.info.shape},
                       {"file", plan.shard_names[out.shard]},
                       {"action", out.action == TensorAction::Copy ? "copy" : "merge"},
                       {"sources", sources}});
  }
  const json layers =
      plan.layer_runs.empty() ? json(nullptr) : json{{"output", plan.config_edits.output_layers}, {"map", runs}};
  return json{{"event", "plan"},
              {"files", files},
              {"index", plan.shard_names.size() > 1},
              {"input_bytes", plan.input_bytes},
              {"output_bytes", plan.output_bytes},
              {"tensor_count", plan.outputs.size()},
              {"layers", layers},
              {"config_edits", edits},
              {"vocabulary", vocabulary},
              {"chat_template", chat_template},
              {"moe", moe},
              {"tensors", tensors}}
      .dump();
}

}  // namespace wasmerge
