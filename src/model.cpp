// Opening a model: a single file, or a folder with one file or an index and shards.
#include "wasmerge/model.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

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

}  // namespace

const ModelTensor* Model::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors[it->second];
}

Model open_model(InputFiles& files, const std::string& path) {
  Model model;
  model.path = path;

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
  return model;
}

}  // namespace wasmerge
