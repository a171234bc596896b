// run_merge: parse, plan, write the shards, the index and the companion files, then
// commit; on any failure or cancel, discard everything written.
#include "wasmerge/merge.hpp"

#include <algorithm>

#include "wasmerge/companion_files.hpp"
#include "wasmerge/plan.hpp"
#include "wasmerge/tensor_executor.hpp"

namespace wasmerge {
namespace {

class ModelWriter {
 public:
  ModelWriter(const MergePlan& plan, const MergeOptions& options, OutputFiles& outputs, const ProgressFn& on_progress)
      : plan_(plan), outputs_(outputs), on_progress_(on_progress), pool_(options.threads),
        executor_(pool_, options.memory_mb << 20) {
    metadata_["format"] = "pt";
    metadata_["merge_config"] = options.config_text;
    progress_.bytes_total = plan.input_bytes;
    progress_.tensor_count = plan.outputs.size();
  }

  void write_shards() {
    for (size_t shard = 0; shard < plan_.shard_names.size(); ++shard) {
      std::vector<TensorInfo> infos;
      std::vector<const OutputTensor*> tensors;
      for (const auto& out : plan_.outputs)
        if (out.shard == shard) {
          infos.push_back(out.info);
          tensors.push_back(&out);
        }
      auto sink = outputs_.create(plan_.shard_names[shard]);
      const std::string header = serialize_safetensors_header(infos, metadata_);
      sink->write(reinterpret_cast<const uint8_t*>(header.data()), header.size());
      for (const OutputTensor* out : tensors) write_tensor(*out, *sink);
    }
  }

 private:
  void write_tensor(const OutputTensor& out, ByteSink& sink) {
    progress_.tensor = &out.info.name;
    report();
    executor_.run(out, sink, [&](uint64_t bytes) {
      progress_.bytes_done += bytes;
      report();
    });
    ++progress_.tensor_index;
  }

  void report() {
    if (on_progress_ && !on_progress_(progress_)) throw Cancelled();
  }

  const MergePlan& plan_;
  OutputFiles& outputs_;
  const ProgressFn& on_progress_;
  ThreadPool pool_;
  TensorExecutor executor_;
  std::map<std::string, std::string> metadata_;
  Progress progress_;
};

}  // namespace

MergeResult run_merge(const std::string& config_json, const MergeOptions& options, InputFiles& inputs,
                      OutputFiles& outputs, const ProgressFn& on_progress, const WarningFn& on_warning) {
  MergeConfig config = parse_config(config_json);
  if (options.random_seed) config.random_seed = *options.random_seed;
  const MergePlan plan = make_plan(std::move(config), inputs, PlanOptions{options.out_shard_size});
  if (on_warning)
    for (const auto& w : plan.warnings) on_warning(w);

  MergeResult result;
  try {
    ModelWriter(plan, options, outputs, on_progress).write_shards();
    result.files = plan.shard_names;
    if (plan.shard_names.size() > 1) {
      write_small_file(outputs, "model.safetensors.index.json", shard_index_json(plan));
      result.files.push_back("model.safetensors.index.json");
    }
    write_companion_files(plan, inputs, outputs);
    write_small_file(outputs, "README.md", model_card(plan, options.config_text));
    outputs.commit();
  } catch (...) {
    outputs.discard();
    throw;
  }
  result.tensor_bytes = plan.output_bytes;
  result.tensor_count = plan.outputs.size();
  return result;
}

}  // namespace wasmerge
