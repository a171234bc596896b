// Building the plan: open every model once, map output tensors to their sources
// (layer_map.hpp), check and resolve each one, lay the output out in shards.
#include "wasmerge/plan.hpp"

#include <algorithm>
#include <cstdio>

#include "chat_template.hpp"
#include "layer_map.hpp"
#include "wasmerge/architecture.hpp"
#include "wasmerge/error.hpp"
#include "wasmerge/safetensors.hpp"
#include "wasmerge/vocabulary.hpp"

namespace wasmerge {
namespace {


// The first value the chain source > slice > global gives for a parameter. Per-model
// filters match the input tensor's name, the others the output's (as mergekit).
std::optional<double> lookup(const MergeConfig& c, const Slice& slice, const SliceSource* source,
                             const std::string& name, const std::string& input_name, const std::string& output_name,
                             double t) {
  if (source)
    if (auto it = source->parameters.find(name); it != source->parameters.end())
      if (auto v = it->second.resolve(input_name, t)) return v;
  for (const Parameters* level : {&slice.parameters, &c.parameters})
    if (auto it = level->find(name); it != level->end())
      if (auto v = it->second.resolve(output_name, t)) return v;
  return std::nullopt;
}

void resolve_parameters(const MergeConfig& c, const MappedTensor& m, OutputTensor& out) {
  const Slice& slice = c.slices[m.slice];
  for (const ParamSpec& spec : out.method->params()) {
    if (spec.scope == ParamSpec::Scope::Global) {
      if (auto v = lookup(c, slice, nullptr, spec.name, m.name, m.name, m.t)) out.params.set(spec.name, *v);
      continue;
    }
    for (size_t k = 0; k < out.inputs.size(); ++k) {
      const SliceSource& source = slice.sources[k];
      auto v = lookup(c, slice, &source, spec.name, m.inputs[k]->info.name, m.name, m.t);
      if (v)
        out.inputs[k].params.set(spec.name, *v);
      else if (spec.required)
        fail(source.model, m.name, "no '" + spec.name + "' applies to this tensor (no filter matches it)");
    }
  }
}

// A fine-tune that added tokens has more vocabulary rows than the base; mergekit users
// expect those rows cut off (the base's rows are a prefix of the tensor's bytes).
bool vocabulary_grew(const std::string& name, const std::vector<uint64_t>& model, const std::vector<uint64_t>& ref) {
  return is_vocabulary_tensor(name) && model.size() == ref.size() && !model.empty() && model[0] > ref[0] &&
         std::equal(model.begin() + 1, model.end(), ref.begin() + 1);
}

// Every input must fit the reference's shape and dtype.
void check_input(MergePlan& plan, const ModelTensor& in, const ModelTensor& ref) {
  const std::string ref_file = ref.source->name();
  const std::string& name = in.info.name;
  if (vocabulary_grew(name, in.info.shape, ref.info.shape))
    plan.warnings.push_back(where(in.source->name(), name,
                                  std::to_string(in.info.shape[0]) + " vocabulary rows cut to the " +
                                      std::to_string(ref.info.shape[0]) + " of " + ref_file));
  else if (in.info.shape != ref.info.shape)
    fail(in.source->name(), name,
         "shape " + shape_text(in.info.shape) + " differs from " + shape_text(ref.info.shape) + " in " + ref_file);
  const bool mergeable = is_mergeable(ref.info.dtype);
  if (mergeable ? !is_mergeable(in.info.dtype) : in.info.dtype != ref.info.dtype)
    fail(in.source->name(), name,
         std::string("dtype ") + dtype_name(in.info.dtype) + " cannot be merged with " + dtype_name(ref.info.dtype) +
             " in " + ref_file);
}

OutputTensor plan_tensor(MergePlan& plan, const MappedTensor& m) {
  const MergeConfig& c = plan.config;
  OutputTensor out;
  out.info = m.reference->info;
  out.info.name = m.name;
  out.method = c.method;
  out.t = m.t;
  out.random_seed = c.random_seed;
  out.base = m.base;
  for (size_t k = 0; k < m.inputs.size(); ++k) out.inputs.push_back(TensorInput{m.inputs[k], k, {}, nullptr});
  // A vocabulary change gathers each input's rows in the output's order (it checks them).
  const bool remapped = plan.vocabulary && is_vocabulary_tensor(m.name);
  if (remapped) {
    for (const ModelTensor* in : m.inputs)  // before any byte is read (the remapped source reads file rows)
      if (in->computed || (m.base && m.base->computed))
        fail(plan.owner(*in).path, m.name,
             "is changed by a LoRA adapter, and a vocabulary change of an adapted tensor is not supported yet");
    remap_vocabulary_tensor(plan, out);
  } else {
    for (const ModelTensor* in : m.inputs) check_input(plan, *in, *m.reference);
  }
  if (!is_mergeable(m.reference->info.dtype)) {  // integer/bool/fp8 tensors that all models share
    out.action = TensorAction::Copy;
    out.copy_from = m.reference;
    return out;
  }
  out.info.dtype = c.output_dtype(m.reference->info.dtype);
  out.check_finite = !c.allow_nonfinite;
  resolve_parameters(c, m, out);
  c.method->check(out);
  if (remapped) return out;
  if (auto k = c.method->byte_copy(out)) {
    out.action = TensorAction::Copy;
    out.copy_from = out.inputs[*k].tensor;
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
  for (size_t i = 0; i < n; ++i) {
    plan.shard_names.push_back(n == 1 ? "model.safetensors" : shard_name(i, n));
    std::vector<TensorInfo> infos;
    uint64_t data = 0;
    for (const auto& out : plan.outputs)
      if (out.shard == i) {
        infos.push_back(out.info);
        data += out.info.num_elements() * dtype_size(out.info.dtype);
      }
    plan.shard_headers.push_back(serialize_safetensors_header(infos, plan.metadata));
    plan.shard_bytes.push_back(plan.shard_headers.back().size() + data);
  }
}

void check_tokenizer_source(const MergeConfig& c) {
  const std::string& source = c.tokenizer_source;
  if (source == "base") return;
  if (c.base_model && source == *c.base_model) return;
  for (const auto& m : c.merged_models())
    if (m == source) return;
  fail("config", "", "tokenizer_source '" + source + "' is neither 'base' nor one of the models");
}

// The dtype every mergeable output tensor has, if they all share one.
std::optional<DType> uniform_output_dtype(const MergePlan& plan) {
  std::optional<DType> seen;
  for (const auto& out : plan.outputs) {
    if (out.action == TensorAction::Copy && !is_mergeable(out.info.dtype)) continue;
    if (seen && *seen != out.info.dtype) return std::nullopt;
    seen = out.info.dtype;
  }
  return seen;
}

// "auto" becomes the template most models share; none: nothing is written, as mergekit.
void resolve_chat_template(MergePlan& plan, InputFiles& files) {
  auto& t = plan.config.chat_template;
  if (!t) return;
  const std::string& source = plan.config.tokenizer_source;
  const Model& tokenizer = source == "base" ? *plan.donor : plan.model(source);
  if (!tokenizer.is_folder) {
    plan.warnings.push_back("chat_template: the tokenizer comes from " + tokenizer.path +
                            ", a single file without tokenizer files; no chat template is written");
    t.reset();
    return;
  }
  if (t->name != "auto") return;
  t->text = shared_chat_template(plan, files);
  if (t->text.empty()) {
    plan.warnings.push_back("chat_template 'auto': no model's tokenizer_config.json has a chat_template; none is written");
    t.reset();
  }
}

}  // namespace

const Model& MergePlan::model(const std::string& path) const {
  for (const auto& m : models)
    if (m->path == path) return *m;
  fail(path, "", "is not among the models of the merge");
}

const Model& MergePlan::owner(const ModelTensor& t) const {
  for (const auto& m : models)
    if (!m->tensors.empty() && &t >= m->tensors.data() && &t < m->tensors.data() + m->tensors.size()) return *m;
  fail(t.source->name(), t.info.name, "is not a tensor of the plan's models");
}

MergePlan make_plan(MergeConfig config, InputFiles& files, uint64_t out_shard_size, const std::string& config_text) {
  MergePlan plan;
  plan.config = std::move(config);
  const MergeConfig& c = plan.config;
  plan.warnings = c.warnings;
  check_tokenizer_source(c);
  std::vector<std::string> paths;
  if (c.base_model) paths.push_back(*c.base_model);
  for (const auto& p : c.merged_models())
    if (std::find(paths.begin(), paths.end(), p) == paths.end()) paths.push_back(p);
  for (const auto& p : paths) plan.models.push_back(std::make_unique<Model>(open_model(files, p)));

  const LayerMap map = map_tensors(plan);
  plan.donor = map.donor;
  plan.layer_runs = map.runs;
  plan.config_edits.output_layers = map.output_layers;
  plan.config_edits.layer_map = map.layer_map;
  plan.config_edits.layers_changed = map.layers_changed;
  plan.warnings.insert(plan.warnings.end(), map.warnings.begin(), map.warnings.end());
  plan.vocabulary = build_vocabulary(plan, files);
  if (plan.vocabulary) {
    plan.warnings.insert(plan.warnings.end(), plan.vocabulary->warnings.begin(), plan.vocabulary->warnings.end());
    plan.config_edits.vocab_size = plan.vocabulary->rows;
  }
  resolve_chat_template(plan, files);
  for (const MappedTensor& m : map.tensors) plan.outputs.push_back(plan_tensor(plan, m));
  lay_out_plan(plan, out_shard_size, config_text);
  return plan;
}

void lay_out_plan(MergePlan& plan, uint64_t out_shard_size, const std::string& config_text) {
  for (const OutputTensor& out : plan.outputs) {
    if (out.action == TensorAction::Copy) {
      plan.input_bytes += out.copy_from->info.num_bytes();
      continue;
    }
    // as the pipeline counts them: computed inputs (an adapted model's tensors too) are f32
    if (out.base)
      plan.input_bytes +=
          out.base->computed ? out.info.num_elements() * dtype_size(DType::F32) : out.base->info.num_bytes();
    for (const auto& in : out.inputs)
      plan.input_bytes +=
          out.info.num_elements() * dtype_size(in.computed || in.tensor->computed ? DType::F32 : in.tensor->info.dtype);
  }
  plan.config_edits.torch_dtype = uniform_output_dtype(plan);
  plan.metadata["format"] = "pt";
  plan.metadata["merge_config"] = config_text;
  assign_shards(plan, out_shard_size);
}

}  // namespace wasmerge
