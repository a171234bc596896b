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
  ModelWriter(const MergePlan& plan, const MergeOptions& options, OutputFiles& outputs, const ProgressFn& on_progress,
              const ReportFn& on_report)
      : plan_(plan), options_(options), outputs_(outputs), on_progress_(on_progress), on_report_(on_report),
        pool_(options.threads), executor_(pool_, options.memory_mb << 20) {
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

  // Each mergeable tensor's report, in place of a merge (options.analyze).
  void analyze() {
    for (const auto& out : plan_.outputs) {
      start_tensor(out);
      if (out.action != TensorAction::Merge) {
        block_done(out.base->info.num_bytes());  // not read: nothing to report
        continue;
      }
      OutputTensor topk = out;  // the same inputs, with TIES' trim for the top-k sets
      topk.sparsify = Sparsify::Magnitude;
      for (auto& in : topk.inputs) in.density = in.density_given ? in.density : kDefaultReportDensity;
      const TensorReport r = executor_.analyze(topk, [&](uint64_t bytes) { block_done(bytes); });
      if (on_report_) on_report_(r.to_json());
    }
  }

 private:
  static constexpr double kDefaultReportDensity = 0.2;

  void write_tensor(const OutputTensor& out, ByteSink& sink) {
    start_tensor(out);
    std::optional<Explanation> explanation;
    if (options_.explain && options_.explain->tensor == out.info.name && out.action == TensorAction::Merge)
      explanation.emplace(*options_.explain, method_name(plan_.config.method), out.inputs.size(), out.info.num_elements());
    executor_.run(out, sink, [&](uint64_t bytes) { block_done(bytes); }, explanation ? &*explanation : nullptr);
    if (explanation && on_report_) on_report_(explanation->to_json(out.consensus));
  }

  void start_tensor(const OutputTensor& out) {
    if (progress_.tensor) ++progress_.tensor_index;
    progress_.tensor = &out.info.name;
    report();
  }

  void block_done(uint64_t bytes) {
    progress_.bytes_done += bytes;
    report();
  }

  void report() {
    if (on_progress_ && !on_progress_(progress_)) throw Cancelled();
  }

  const MergePlan& plan_;
  const MergeOptions& options_;
  OutputFiles& outputs_;
  const ProgressFn& on_progress_;
  const ReportFn& on_report_;
  ThreadPool pool_;
  TensorExecutor executor_;
  std::map<std::string, std::string> metadata_;
  Progress progress_;
};

}  // namespace

MergeResult run_merge(const std::string& config_json, const MergeOptions& options, InputFiles& inputs,
                      OutputFiles& outputs, const ProgressFn& on_progress, const WarningFn& on_warning,
                      const ReportFn& on_report) {
  MergeConfig config = parse_config(config_json);
  if (options.random_seed) config.random_seed = *options.random_seed;
  const MergePlan plan = make_plan(std::move(config), inputs, PlanOptions{options.out_shard_size});
  if (on_warning)
    for (const auto& w : plan.warnings) on_warning(w);

  MergeResult result;
  if (options.analyze) {
    ModelWriter(plan, options, outputs, on_progress, on_report).analyze();
    result.tensor_count = plan.outputs.size();
    return result;
  }
  try {
    ModelWriter(plan, options, outputs, on_progress, on_report).write_shards();
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
