#pragma once
// The plan: config + headers -> the list of output tensors, each with its sources and
// every parameter resolved. Every error findable without reading a tensor byte is raised
// here. The mapping stage (layer_map.cpp) says which input tensor each output tensor
// comes from: `models:` maps every tensor to its namesake, `slices:` renumbers layers.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "wasmerge/config.hpp"
#include "wasmerge/model.hpp"
#include "wasmerge/row_map.hpp"
#include "wasmerge/thread_pool.hpp"

namespace wasmerge {

class ComputedTensor;  // src/pipeline/tensor_source.hpp

struct TensorInput {
  const ModelTensor* tensor;  // the file tensor it reads; null for one computed from nothing (a router)
  size_t model_index;  // 0-based among the tensor's non-base inputs (the DARE stream's k)
  ParamValues params;  // the per-model parameters, resolved for this tensor
  std::shared_ptr<const RowMap> rows;  // a vocabulary change: its rows in the output's order
  std::shared_ptr<const ComputedTensor> computed = nullptr;  // elements computed, not read (f32)
};

enum class TensorAction { Merge, Copy };

struct OutputTensor {
  TensorInfo info;  // name, output dtype and shape; offsets within its shard
  size_t shard = 0;
  TensorAction action = TensorAction::Merge;
  const MergeMethod* method = nullptr;
  const ModelTensor* base = nullptr;  // null when the method takes no base
  std::shared_ptr<const RowMap> base_rows;  // a vocabulary change: the base's rows in the output's order
  std::vector<TensorInput> inputs;
  const ModelTensor* copy_from = nullptr;  // Copy: the input whose bytes are the output's
  ParamValues params;                      // the global (and slice) parameters, resolved for this tensor
  double t = 0;                            // position in its slice, for gradients
  uint64_t random_seed = 0;
  bool check_finite = true;  // NaN/Inf in an input is an error (allow_nonfinite: false)
};

// One run of output layers and where they come from: output layers [first, end) take,
// from each source model, layers [source_first, source_first + end - first).
struct LayerRun {
  int first = 0, end = 0;
  struct Source {
    std::string model;
    int first;
  };
  std::vector<Source> sources;  // the base first, when the method takes one
};

// What config.json gets, besides the copy: the plan decides, companion_files applies.
struct ConfigEdits {
  std::vector<std::pair<std::string, std::string>> set_keys;  // key -> its JSON value (an MoE's architecture)
  std::optional<DType> torch_dtype;  // every mergeable output tensor has this dtype
  int output_layers = 0;
  std::vector<int> layer_map;   // output layer -> layer of its slice's reference source
  bool layers_changed = false;  // the map is not the donor's own layers in order
  std::optional<uint64_t> vocab_size;  // a vocabulary change: the output's rows
};

struct OutputVocabulary;
struct MoeSummary;

// Work a plan needs done once before its tensors are written: MoE's prompt routers need a
// forward pass of the base. on_step(done, total) after each step (a layer); it may throw
// Cancelled.
class Precompute {
 public:
  virtual ~Precompute() = default;
  virtual void run(ThreadPool& pool, uint64_t budget_bytes, const std::function<void(int, int)>& on_step) = 0;
};

struct MergePlan {
  MergeConfig config;
  std::vector<std::unique_ptr<Model>> models;  // every model read, opened once
  const Model* donor = nullptr;                // config.json and tensor order: base_model, else the first source
  std::vector<OutputTensor> outputs;
  std::vector<LayerRun> layer_runs;  // empty when no tensor has a layer number
  ConfigEdits config_edits;
  std::shared_ptr<const OutputVocabulary> vocabulary;  // null: every model's rows as they are
  std::shared_ptr<const MoeSummary> moe;               // a mergekit-moe config: what it builds
  std::vector<std::shared_ptr<Precompute>> precomputes;  // run before the first tensor is written
  std::vector<std::string> shard_names;
  std::vector<std::string> shard_headers;  // each file's header bytes (length + JSON), written first
  std::vector<uint64_t> shard_bytes;       // each file's size, header included
  std::vector<std::string> warnings;
  uint64_t input_bytes = 0;   // bytes read once through all tensors
  uint64_t output_bytes = 0;  // tensor data bytes written

  std::map<std::string, std::string> metadata;  // __metadata__ of every output file

  const Model& model(const std::string& path) const;
  const Model& owner(const ModelTensor& t) const;  // the model a tensor of the plan is from
};

// out_shard_size: bytes per output file (MergeOptions::out_shard_size); config_text: the
// user's own text, quoted in every file's __metadata__.
MergePlan make_plan(MergeConfig config, InputFiles& files, uint64_t out_shard_size,
                    const std::string& config_text = "");

// The plan's last steps, once its outputs are listed: the input bytes progress counts,
// config.json's torch_dtype, the metadata, the shards and their headers.
void lay_out_plan(MergePlan& plan, uint64_t out_shard_size, const std::string& config_text);

// {"event":"plan",...}: the dry run's report (files and sizes, layer map, tensors).
std::string plan_event_json(const MergePlan& plan);

}  // namespace wasmerge
