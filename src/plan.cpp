// Building the plan: open every model, match tensors against the base, resolve each
// tensor's parameters, lay the output out in shards.
#include "wasmerge/plan.hpp"

#include <algorithm>
#include <cstdio>

#include "wasmerge/error.hpp"
#include "wasmerge/sparsify.hpp"

namespace wasmerge {
namespace {

std::string shape_text(const std::vector<uint64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

int count_layers(const Model& model) {
  int n = 0;
  for (const auto& t : model.tensors)
    if (auto i = layer_index(t.info.name)) n = std::max(n, *i + 1);
  return n;
}

// The value of a parameter for one tensor: the model's own setting wins over the global one.
std::optional<double> lookup(const MergeConfig& c, const ModelEntry* model, const std::string& name,
                             const std::string& tensor, double t) {
  if (model)
    if (auto it = model->parameters.find(name); it != model->parameters.end())
      if (auto v = it->second.resolve(tensor, t)) return v;
  if (auto it = c.parameters.find(name); it != c.parameters.end()) return it->second.resolve(tensor, t);
  return std::nullopt;
}

void resolve_parameters(const MergeConfig& c, int n_layers, OutputTensor& out) {
  const std::string& name = out.info.name;
  const double t = layer_position(name, n_layers);
  const MethodTraits& tr = traits(c.method);
  for (auto& input : out.inputs) {
    const ModelEntry& entry = c.models[input.model_index];
    auto weight = lookup(c, &entry, "weight", name, t);
    if (!weight && tr.weight_required)
      fail(entry.path, name, "no 'weight' applies to this tensor (no filter matches it)");
    input.weight = static_cast<float>(weight.value_or(1.0));
    const auto density = lookup(c, &entry, "density", name, t);  // checked in (0, 1] by the config
    input.density = density.value_or(1.0);
    input.density_given = density.has_value();
    input.dare_stream = dare_stream(c.random_seed, name, input.model_index);
  }
  out.sparsify = tr.sparsify_magnitude ? Sparsify::Magnitude : tr.sparsify_random ? Sparsify::Random : Sparsify::None;
  out.consensus = tr.consensus;
  out.normalize = lookup(c, nullptr, "normalize", name, t).value_or(tr.default_normalize) != 0;
  out.lambda = static_cast<float>(lookup(c, nullptr, "lambda", name, t).value_or(1.0));
  out.rescale = lookup(c, nullptr, "rescale", name, t).value_or(tr.default_rescale) != 0;
  out.rescale_inverse_density = lookup(c, nullptr, "rescale_mode", name, t).value_or(0) != 0;
}

// Embeddings and output heads: the tensors whose rows are the vocabulary.
bool is_vocabulary_tensor(const std::string& name) {
  for (const char* part : {"embed_tokens", "lm_head", "wte", "word_embeddings", "embed_in", "embed_out"})
    if (name.find(part) != std::string::npos) return true;
  return false;
}

// A fine-tune that added tokens has more vocabulary rows than the base; mergekit users
// expect those rows cut off (the base's rows are a prefix of the tensor's bytes).
bool vocabulary_grew(const std::string& name, const std::vector<uint64_t>& model, const std::vector<uint64_t>& ref) {
  return is_vocabulary_tensor(name) && model.size() == ref.size() && !model.empty() && model[0] > ref[0] &&
         std::equal(model.begin() + 1, model.end(), ref.begin() + 1);
}

// Matches one tensor of the reference model against every model to merge.
OutputTensor plan_tensor(MergePlan& plan, const ModelTensor& ref, int n_layers) {
  const MergeConfig& c = plan.config;
  OutputTensor out;
  out.info = ref.info;
  out.base = plan.base && traits(c.method).needs_base ? &ref : nullptr;  // linear ignores the base
  const bool mergeable = is_mergeable(ref.info.dtype);
  const std::string ref_file = ref.source->name();
  for (size_t k = 0; k < plan.models.size(); ++k) {
    const Model& model = *plan.models[k];
    const ModelTensor* mt = model.find(ref.info.name);
    if (!mt) fail(model.path, ref.info.name, "missing (it is in " + ref_file + ")");
    if (vocabulary_grew(ref.info.name, mt->info.shape, ref.info.shape))
      plan.warnings.push_back(where(mt->source->name(), ref.info.name,
                                    std::to_string(mt->info.shape[0]) + " vocabulary rows cut to the " +
                                        std::to_string(ref.info.shape[0]) + " of " + ref_file));
    else if (mt->info.shape != ref.info.shape)
      fail(mt->source->name(), ref.info.name,
           "shape " + shape_text(mt->info.shape) + " differs from " + shape_text(ref.info.shape) + " in " + ref_file);
    if (mergeable ? !is_mergeable(mt->info.dtype) : mt->info.dtype != ref.info.dtype)
      fail(mt->source->name(), ref.info.name,
           std::string("dtype ") + dtype_name(mt->info.dtype) + " cannot be merged with " + dtype_name(ref.info.dtype) +
               " in " + ref_file);
    out.inputs.push_back(TensorInput{mt, k});
  }
  if (mergeable) {
    out.info.dtype = c.output_dtype(ref.info.dtype);
    out.check_finite = !c.allow_nonfinite;
    resolve_parameters(c, n_layers, out);
  } else {
    out.action = TensorAction::CopyBase;  // integer/bool/fp8 tensors that all models share
    out.base = &ref;
  }
  return out;
}

std::string shard_name(size_t i, size_t n) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "model-%05zu-of-%05zu.safetensors", i + 1, n);
  return buf;
}

// Greedy: a tensor starts a new shard when it would push the current one past the limit.
void assign_shards(MergePlan& plan, uint64_t out_shard_size) {
  size_t shard = 0;
  uint64_t shard_bytes = 0;
  for (auto& out : plan.outputs) {
    const uint64_t bytes = out.info.num_elements() * dtype_size(out.info.dtype);
    if (shard_bytes > 0 && shard_bytes + bytes > out_shard_size) {
      ++shard;
      shard_bytes = 0;
    }
    out.shard = shard;
    shard_bytes += bytes;
    plan.output_bytes += bytes;
  }
  const size_t n = shard + 1;
  for (size_t i = 0; i < n; ++i) plan.shard_names.push_back(n == 1 ? "model.safetensors" : shard_name(i, n));
}

void check_tokenizer_source(const MergePlan& plan) {
  const std::string& source = plan.config.tokenizer_source;
  if (source == "base") return;
  if (plan.config.base_model && source == *plan.config.base_model) return;
  for (const auto& m : plan.config.models)
    if (m.path == source) return;
  fail("config", "", "tokenizer_source '" + source + "' is neither 'base' nor one of the models");
}

}  // namespace

MergePlan make_plan(MergeConfig config, InputFiles& files, const PlanOptions& options) {
  MergePlan plan;
  plan.config = std::move(config);
  check_tokenizer_source(plan);
  if (plan.config.base_model) plan.base = std::make_unique<Model>(open_model(files, *plan.config.base_model));
  for (const auto& entry : plan.config.models) plan.models.push_back(std::make_unique<Model>(open_model(files, entry.path)));

  const Model& ref = plan.reference();
  const int n_layers = count_layers(ref);
  for (const auto& t : ref.tensors) {
    plan.outputs.push_back(plan_tensor(plan, t, n_layers));
    const OutputTensor& out = plan.outputs.back();
    plan.input_bytes += (out.base ? out.base->info.num_bytes() : 0);
    if (out.action == TensorAction::Merge)
      for (const auto& in : out.inputs) plan.input_bytes += out.info.num_elements() * dtype_size(in.tensor->info.dtype);
  }
  for (const auto& model : plan.models)
    for (const auto& t : model->tensors)
      if (!ref.find(t.info.name))
        plan.warnings.push_back(where(model->path, t.info.name, "not in " + ref.path + "; left out of the merge"));
  assign_shards(plan, options.out_shard_size);
  return plan;
}

}  // namespace wasmerge
