#include "wasmerge/companion_files.hpp"

#include <nlohmann/json.hpp>
#include <optional>

#include "wasmerge/architecture.hpp"
#include "wasmerge/error.hpp"
#include "wasmerge/moe_config.hpp"
#include "wasmerge/vocabulary.hpp"

namespace wasmerge {
namespace {

// The files transformers needs to load a tokenizer and generate, when the source has them.
constexpr const char* kTokenizerFiles[] = {
    "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model", "vocab.json",
    "merges.txt",     "added_tokens.json",     "vocab.txt",               "generation_config.json"};

const Model* tokenizer_model(const MergePlan& plan) {
  const std::string& source = plan.config.tokenizer_source;
  if (source == "base" || (plan.config.base_model && source == *plan.config.base_model)) return plan.donor;
  return &plan.model(source);
}

std::string layers_text(int first, int end) {
  return end - first == 1 ? std::to_string(first) : std::to_string(first) + "-" + std::to_string(end - 1);
}

// config.json with the plan's edits: torch_dtype; with a new layer map, the layer count
// and every top-level list with one entry per donor layer, re-indexed (SPEC §5).
std::string edited_config(const MergePlan& plan, const std::string& path, const std::string& text) {
  const ConfigEdits& edits = plan.config_edits;
  if (!edits.torch_dtype && !edits.layers_changed && !edits.vocab_size && edits.set_keys.empty()) return text;
  auto config = nlohmann::ordered_json::parse(text, nullptr, false);
  if (config.is_discarded() || !config.is_object()) fail(path, "", "is not a JSON object");
  if (edits.torch_dtype) config["torch_dtype"] = torch_dtype_name(*edits.torch_dtype);
  if (edits.vocab_size) config["vocab_size"] = *edits.vocab_size;  // mergekit's vocab_size: the rows, padding included
  for (const auto& key : edits.set_keys) config[key.first] = nlohmann::ordered_json::parse(key.second);
  if (edits.layers_changed) {
    std::optional<std::string> key;
    for (const auto& k : layer_count_keys())
      if (!key && config.contains(k) && config[k].is_number_integer()) key = k;
    const int64_t donor_layers = key ? config[*key].get<int64_t>() : -1;
    for (auto& [name, value] : config.items()) {
      if (donor_layers <= 0 || !value.is_array() || static_cast<int64_t>(value.size()) != donor_layers) continue;
      nlohmann::ordered_json mapped = nlohmann::ordered_json::array();
      // A frankenmerge may take layers past the donor's count from a deeper model: those
      // repeat the donor's last entry.
      for (int layer : edits.layer_map) mapped.push_back(layer < donor_layers ? value[layer] : value.back());
      value = mapped;
    }
    config[key.value_or(layer_count_keys().front())] = edits.output_layers;
  }
  return config.dump(2) + "\n";
}

}  // namespace

std::string shard_index_json(const MergePlan& plan) {
  nlohmann::ordered_json index;
  index["metadata"]["total_size"] = plan.output_bytes;
  auto& weight_map = index["weight_map"];
  weight_map = nlohmann::ordered_json::object();
  for (const auto& out : plan.outputs) weight_map[out.info.name] = plan.shard_names[out.shard];
  return index.dump(2) + "\n";
}

namespace {

std::string yaml_block(const std::string& config_text) {
  std::string block = "```yaml\n" + config_text;
  if (!config_text.empty() && config_text.back() != '\n') block += "\n";
  return block + "```\n";
}

// An upcycled model's card: what it was built from and how its routers were made.
std::string moe_card(const MoeSummary& moe, const std::string& config_text) {
  const MoeConfig& c = moe.config;
  std::string card = "---\nbase_model:\n- " + c.base_model + "\n";
  card += "library_name: transformers\ntags:\n- mergekit\n- moe\n- wasmerge\n---\n";
  card += "# mixture of experts\n\nThis is a " + moe.architecture + " mixture of experts built with wasmerge, "
          "a browser port of [mergekit](https://github.com/arcee-ai/mergekit)'s mergekit-moe, on " + c.base_model +
          ": everything but the MLPs comes from it.\n\n";
  card += "## Experts\n\n" + std::to_string(c.experts.size()) + " experts, " + std::to_string(c.experts_per_token) +
          " per token; routers: gate_mode " + gate_mode_name(c.gate_mode) + ".\n\n";
  for (size_t e = 0; e < c.experts.size(); ++e) card += "* expert " + std::to_string(e) + ": " + c.experts[e].source_model + "\n";
  for (const MoeExpert& e : c.shared_experts) card += "* shared expert: " + e.source_model + "\n";
  card += "\n## Configuration\n\nThe following YAML configuration was used to produce this model:\n\n";
  return card + yaml_block(config_text);
}

}  // namespace

std::string model_card(const MergePlan& plan, const std::string& config_text) {
  if (plan.moe) return moe_card(*plan.moe, config_text);
  std::string card = "---\nbase_model:\n";
  if (plan.config.base_model) card += "- " + *plan.config.base_model + "\n";
  for (const auto& m : plan.config.merged_models()) card += "- " + m + "\n";
  card += "library_name: transformers\ntags:\n- mergekit\n- merge\n- wasmerge\n---\n";
  card += "# merged\n\nThis is a merge of pre-trained language models created with wasmerge, "
          "a browser port of [mergekit](https://github.com/arcee-ai/mergekit).\n\n";
  card += "## Merge Details\n### Merge Method\n\nThis model was merged using the ";
  card += plan.config.method->card_link();
  card += " merge method";
  if (plan.config.uses_base())
    card += " using " + *plan.config.base_model + " as a base";
  card += ".\n\n### Models Merged\n\nThe following models were included in the merge:\n";
  for (const auto& m : plan.config.merged_models()) card += "* " + m + "\n";
  if (plan.config.uses_slices && !plan.layer_runs.empty()) {
    card += "\n### Layer map\n\n";
    for (const auto& run : plan.layer_runs) {
      card += "* output layers " + layers_text(run.first, run.end) + " ←";
      for (size_t i = 0; i < run.sources.size(); ++i)
        card += (i ? ", " : " ") + run.sources[i].model + " layers " +
                layers_text(run.sources[i].first, run.sources[i].first + run.end - run.first);
      card += "\n";
    }
  }
  card += "\n### Configuration\n\nThe following YAML configuration was used to produce this model:\n\n";
  return card + yaml_block(config_text);
}

void write_companion_files(const MergePlan& plan, InputFiles& inputs, OutputFiles& outputs) {
  const Model& donor = *plan.donor;
  if (donor.is_folder && inputs.file_size(donor.folder_file("config.json"))) {
    const std::string path = donor.folder_file("config.json");
    write_small_file(outputs, "config.json", edited_config(plan, path, read_small_file(inputs, path)));
  }
  const Model* source = tokenizer_model(plan);
  if (!source->is_folder) return;
  for (const char* file : kTokenizerFiles) {
    const std::string path = source->folder_file(file);
    if (inputs.file_size(path))
      write_small_file(outputs, file, edited_tokenizer_file(plan, file, path, read_small_file(inputs, path)));
  }
  // A chat template needs a tokenizer_config.json to live in, as transformers would write one.
  if (plan.config.chat_template && !inputs.file_size(source->folder_file("tokenizer_config.json")))
    write_small_file(outputs, "tokenizer_config.json", edited_tokenizer_file(plan, "tokenizer_config.json", "", ""));
}

}  // namespace wasmerge
