#include "wasmerge/companion_files.hpp"

#include <nlohmann/json.hpp>
#include <set>

#include "wasmerge/error.hpp"

namespace wasmerge {
namespace {

// The files transformers needs to load a tokenizer and generate, when the source has them.
constexpr const char* kTokenizerFiles[] = {
    "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model", "vocab.json",
    "merges.txt",     "added_tokens.json",     "vocab.txt",               "generation_config.json"};

const Model* tokenizer_model(const MergePlan& plan) {
  const std::string& source = plan.config.tokenizer_source;
  if (source == "base" || (plan.config.base_model && source == *plan.config.base_model)) return &plan.reference();
  for (size_t k = 0; k < plan.models.size(); ++k)
    if (plan.config.models[k].path == source) return plan.models[k].get();
  return &plan.reference();
}

const char* method_link(Method m) {
  switch (m) {
    case Method::Linear: return "[linear](https://arxiv.org/abs/2203.05482)";
    case Method::TaskArithmetic: return "[task arithmetic](https://arxiv.org/abs/2212.04089)";
    case Method::Ties: return "[TIES](https://arxiv.org/abs/2306.01708)";
    case Method::DareLinear: return "linear [DARE](https://arxiv.org/abs/2311.03099)";
    case Method::DareTies: return "[DARE](https://arxiv.org/abs/2311.03099) [TIES](https://arxiv.org/abs/2306.01708)";
  }
  return "";
}

// The dtype every mergeable output tensor has, if they all share one.
std::optional<DType> uniform_output_dtype(const MergePlan& plan) {
  std::set<DType> seen;
  for (const auto& out : plan.outputs)
    if (out.action == TensorAction::Merge) seen.insert(out.info.dtype);
  if (seen.size() == 1) return *seen.begin();
  return std::nullopt;
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

std::string model_card(const MergePlan& plan, const std::string& config_text) {
  std::string card = "---\nbase_model:\n";
  if (plan.config.base_model) card += "- " + *plan.config.base_model + "\n";
  for (const auto& m : plan.config.models) card += "- " + m.path + "\n";
  card += "library_name: transformers\ntags:\n- mergekit\n- merge\n- wasmerge\n---\n";
  card += "# merged\n\nThis is a merge of pre-trained language models created with wasmerge, "
          "a browser port of [mergekit](https://github.com/arcee-ai/mergekit).\n\n";
  card += "## Merge Details\n### Merge Method\n\nThis model was merged using the ";
  card += method_link(plan.config.method);
  card += " merge method";
  if (plan.config.base_model && traits(plan.config.method).needs_base)
    card += " using " + *plan.config.base_model + " as a base";
  card += ".\n\n### Models Merged\n\nThe following models were included in the merge:\n";
  for (const auto& m : plan.config.models) card += "* " + m.path + "\n";
  card += "\n### Configuration\n\nThe following YAML configuration was used to produce this model:\n\n```yaml\n";
  card += config_text;
  if (!config_text.empty() && config_text.back() != '\n') card += "\n";
  card += "```\n";
  return card;
}

void write_companion_files(const MergePlan& plan, InputFiles& inputs, OutputFiles& outputs) {
  const Model& ref = plan.reference();
  if (ref.is_folder && inputs.file_size(ref.folder_file("config.json"))) {
    const std::string path = ref.folder_file("config.json");
    std::string text = read_small_file(inputs, path);
    if (auto dtype = uniform_output_dtype(plan)) {
      auto config = nlohmann::ordered_json::parse(text, nullptr, false);
      if (config.is_discarded() || !config.is_object()) fail(path, "", "is not a JSON object");
      config["torch_dtype"] = torch_dtype_name(*dtype);
      text = config.dump(2) + "\n";
    }
    write_small_file(outputs, "config.json", text);
  }
  const Model* source = tokenizer_model(plan);
  if (!source->is_folder) return;
  for (const char* file : kTokenizerFiles)
    if (inputs.file_size(source->folder_file(file)))
      write_small_file(outputs, file, read_small_file(inputs, source->folder_file(file)));
}

}  // namespace wasmerge
