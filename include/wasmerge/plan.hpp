#pragma once
// The plan: config + headers -> the list of output tensors with every parameter
// resolved. Every error findable without reading a tensor byte is raised here.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "wasmerge/config.hpp"
#include "wasmerge/model.hpp"

namespace wasmerge {

enum class Sparsify { None, Magnitude, Random };

struct TensorInput {
  const ModelTensor* tensor;
  size_t model_index;  // 0-based among the non-base models, in config order
  float weight = 1.0f;
  double density = 1.0;
  bool density_given = false;  // the config sets one (else mergekit's default, 1)
  uint64_t dare_stream = 0;  // the DARE mask's stream for (seed, tensor, model)
};

enum class TensorAction { Merge, CopyBase };

struct OutputTensor {
  TensorInfo info;                // name, output dtype and shape; offsets within its shard
  size_t shard = 0;
  TensorAction action = TensorAction::Merge;
  const ModelTensor* base = nullptr;  // null for linear without a base model
  std::vector<TensorInput> inputs;
  Sparsify sparsify = Sparsify::None;
  bool consensus = false;  // TIES sign election
  bool check_finite = true;  // NaN/Inf in an input is an error (allow_nonfinite: false)
  bool normalize = false;
  float lambda = 1.0f;
  bool rescale = false;
  bool rescale_inverse_density = false;
};

struct MergePlan {
  MergeConfig config;
  std::unique_ptr<Model> base;                  // null when the config has none
  std::vector<std::unique_ptr<Model>> models;   // config order
  std::vector<OutputTensor> outputs;            // the base's order (or the first model's)
  std::vector<std::string> shard_names;
  std::vector<std::string> warnings;
  uint64_t input_bytes = 0;   // bytes read once through all tensors
  uint64_t output_bytes = 0;  // tensor data bytes written

  const Model& reference() const { return base ? *base : *models.front(); }
};

struct PlanOptions {
  uint64_t out_shard_size = 5'000'000'000ull;
};

MergePlan make_plan(MergeConfig config, InputFiles& files, const PlanOptions& options);

}  // namespace wasmerge
