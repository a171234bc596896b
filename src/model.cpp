// Opening a model: a single file, or a folder with one file or an index and shards.
#include "wasmerge/model.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "lora/lora_adapter.hpp"
#include "wasmerge/error.hpp"

namespace wasmerge {
namespace {

constexpr const char* kIndexName = "model.safetensors.index.json";
constexpr const char* kSingleName = "model.safetensors";

// weight_map of an index: tensor name -> shard file name (relative to the folder).
std::map<std::string, std::string> read_weight_map(InputFiles& files, const std::string& index_path) {
  nlohmann::json index;
  try {
    index = nlohmann::json::parse(read_small_file(files, index_path));
  } catch (const nlohmann::json::exception& e) {
    fail(index_path, "", std::string("not valid JSON (") + e.what() + ")");
  }
  if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object())
    fail(index_path, "", "has no weight_map object");
  std::map<std::string, std::string> weight_map;
  for (const auto& [tensor, shard] : index["weight_map"].items()) {
    if (!shard.is_string()) fail(index_path, tensor, "weight_map entry is not a file name");
    const auto& name = shard.get_ref<const std::string&>();
    if (name.empty() || name.find("..") != std::string::npos || name.front() == '/')
      fail(index_path, tensor, "weight_map names a file outside the folder: '" + name + "'");
    weight_map[tensor] = name;
  }
  return weight_map;
}

bool model_exists(InputFiles& files, const std::string& path) {
  return files.file_size(path) || files.file_size(path + "/" + kIndexName) || files.file_size(path + "/" + kSingleName);
}

// mergekit's `model+adapter`. A path that is itself a model stays one, '+' or not; else
// the first '+' with a model before it and an adapter folder after it splits, then the
// first with a model before it (the adapter's own errors name its missing files).
struct ModelReference {
  std::string model, adapter;
};

ModelReference parse_reference(InputFiles& files, const std::string& path) {
  if (path.find('+') == std::string::npos || model_exists(files, path)) return {path, ""};
  std::vector<size_t> pluses;
  for (size_t i = path.find('+'); i != std::string::npos; i = path.find('+', i + 1))
    if (i > 0 && i + 1 < path.size()) pluses.push_back(i);
  for (size_t i : pluses)
    if (model_exists(files, path.substr(0, i)) && files.file_size(path.substr(i + 1) + "/" + kAdapterConfigName))
      return {path.substr(0, i), path.substr(i + 1)};
  for (size_t i : pluses)
    if (model_exists(files, path.substr(0, i))) return {path.substr(0, i), path.substr(i + 1)};
  if (pluses.size() == 1) return {path.substr(0, pluses[0]), path.substr(pluses[0] + 1)};
  return {path, ""};
}

}  // namespace

const ModelTensor* Model::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors[it->second];
}

Model open_model(InputFiles& files, const std::string& reference) {
  const ModelReference ref = parse_reference(files, reference);
  const std::string& path = ref.model;
  Model model;
  model.path = reference;
  model.folder = path;
  model.adapter = ref.adapter;

  auto add_file = [&](const std::string& file_path, const std::map<std::string, std::string>* weight_map,
                      const std::string& shard_name) {
    model.sources.push_back(files.open(file_path));
    ByteSource& src = *model.sources.back();
    const SafetensorsHeader header = read_safetensors_header(src);
    for (const auto& info : header.tensors) {
      if (weight_map) {
        auto it = weight_map->find(info.name);
        if (it == weight_map->end() || it->second != shard_name) continue;  // the index decides
      }
      if (!model.index_.emplace(info.name, model.tensors.size()).second)
        fail(file_path, info.name, "appears in more than one shard");
      model.tensors.push_back(ModelTensor{info, &src, header.data_start});
    }
  };

  if (files.file_size(path)) {
    add_file(path, nullptr, "");
  } else if (files.file_size(path + "/" + kIndexName)) {
    model.is_folder = true;
    const std::string index_path = path + "/" + kIndexName;
    const auto weight_map = read_weight_map(files, index_path);
    std::set<std::string> shard_names;
    for (const auto& entry : weight_map) shard_names.insert(entry.second);
    for (const auto& shard : shard_names) {
      if (!files.file_size(path + "/" + shard)) fail(index_path, "", "names shard '" + shard + "', which is missing");
      add_file(path + "/" + shard, &weight_map, shard);
    }
    for (const auto& [tensor, shard] : weight_map)
      if (!model.find(tensor)) fail(path + "/" + shard, tensor, "listed in the index but not in the shard");
  } else if (files.file_size(path + "/" + kSingleName)) {
    model.is_folder = true;
    add_file(path + "/" + kSingleName, nullptr, "");
  } else {
    fail(path, "", std::string("not found: expected a .safetensors file, or a folder with ") + kSingleName + " or " +
                       kIndexName);
  }
  if (!ref.adapter.empty()) apply_lora_adapter(files, model);
  return model;
}

}  // namespace wasmerge
