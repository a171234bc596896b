#pragma once
// A model as the user names it: one .safetensors file, or a folder holding
// model.safetensors or model.safetensors.index.json + shards; `path+adapter` is that model
// with a PEFT LoRA adapter folder merged in (SPEC §8, src/lora/).
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "wasmerge/byte_io.hpp"
#include "wasmerge/safetensors.hpp"

namespace wasmerge {

class ComputedTensor;  // src/pipeline/tensor_source.hpp

struct ModelTensor {
  TensorInfo info;
  ByteSource* source = nullptr;  // owned by the Model
  uint64_t data_start = 0;       // absolute offset of the data buffer in source
  uint64_t absolute_offset() const { return data_start + info.begin; }
  // An adapted model's tensor: its elements are computed (f32) from the bytes above and the
  // adapter's; never copied byte for byte.
  std::shared_ptr<const ComputedTensor> computed = nullptr;
};

class Model {
 public:
  std::string path;        // as written in the config
  std::string folder;      // where its files are: path without "+adapter"
  std::string adapter;     // the adapter folder of a `path+adapter` reference, else empty
  bool is_folder = false;  // folders carry config.json and tokenizer files
  std::vector<ModelTensor> tensors;  // shard order, then buffer order
  std::vector<std::unique_ptr<ByteSource>> sources;

  const ModelTensor* find(const std::string& name) const;
  std::string folder_file(const std::string& file) const { return folder + "/" + file; }

 private:
  friend Model open_model(InputFiles&, const std::string&);
  std::unordered_map<std::string, size_t> index_;
};

Model open_model(InputFiles& files, const std::string& path);

}  // namespace wasmerge
