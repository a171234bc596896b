// run_merge: parse, plan, write the shards, the index and the companion files, then
// commit; on any failure or cancel, discard everything written. plan_merge and
// run_analysis share the parse and the plan, and write nothing.
#include "wasmerge/merge.hpp"

#include "analysis.hpp"
#include "explain.hpp"
#include "merge_progress.hpp"
#include "moe/moe_plan.hpp"
#include "tensor_executor.hpp"
#include "wasmerge/companion_files.hpp"
#include "wasmerge/error.hpp"
#include "wasmerge/moe_config.hpp"
#include "wasmerge/plan.hpp"

namespace wasmerge {
namespace {

// A merge config, or a mergekit-moe one (upcycling): both become a plan of output tensors.
MergePlan plan_of(const std::string& config_json, const MergeOptions& options, InputFiles& inputs,
                  const WarningFn& on_warning) {
  MergePlan plan;
  if (is_moe_config(config_json)) {
    MoeConfig config = parse_moe_config(config_json);
    if (options.random_seed) config.random_seed = *options.random_seed;
    plan = make_moe_plan(std::move(config), inputs, options.out_shard_size, options.config_text, options.prompt_tokens);
  } else {
    MergeConfig config = parse_config(config_json);
    if (options.random_seed) config.random_seed = *options.random_seed;
    plan = make_plan(std::move(config), inputs, options.out_shard_size, options.config_text);
  }
  if (on_warning)
    for (const auto& w : plan.warnings) on_warning(w);
  return plan;
}

// What the plan needs computed before its first tensor (MoE's prompt routers), reported
// as {"event":"forward","layer":l,"layers":L} after each step; cancellable between steps.
void run_precomputes(const MergePlan& plan, const MergeOptions& options, ThreadPool& pool, MergeProgress& progress,
                     const ReportFn& on_report) {
  for (const auto& step : plan.precomputes)
    step->run(pool, options.memory_mb << 20, [&](int done, int total) {
      if (on_report)
        on_report("{\"event\":\"forward\",\"layer\":" + std::to_string(done) + ",\"layers\":" +
                  std::to_string(total) + "}");
      progress.on_block()(0);
    });
}

// The safetensors files of a plan, each header first, then its tensors in order.
// -> the seconds spent computing (ThreadPool::busy_seconds).
double write_shards(const MergePlan& plan, const MergeOptions& options, OutputFiles& outputs, MergeProgress& progress,
                    const ReportFn& on_report) {
  ThreadPool pool(options.threads);
  run_precomputes(plan, options, pool, progress, on_report);
  TensorExecutor executor(pool, options.memory_mb << 20);
  for (size_t shard = 0; shard < plan.shard_names.size(); ++shard) {
    auto sink = outputs.create(plan.shard_names[shard]);
    const std::string& header = plan.shard_headers[shard];  // the plan laid the file out
    sink->write(reinterpret_cast<const uint8_t*>(header.data()), header.size());
    for (const auto& out : plan.outputs) {
      if (out.shard != shard) continue;
      progress.start_tensor(out.info.name);
      std::optional<Explanation> explanation;
      if (options.explain && options.explain->tensor == out.info.name && out.action == TensorAction::Merge)
        explanation.emplace(*options.explain, *out.method, out.inputs.size(), out.info.num_elements());
      executor.write(out, *sink, progress.on_block(), explanation ? &*explanation : nullptr);
      if (explanation && on_report) on_report(explanation->to_json());
    }
  }
  return pool.busy_seconds();
}

}  // namespace

MergeResult run_merge(const std::string& config_json, const MergeOptions& options, InputFiles& inputs,
                      OutputFiles& outputs, const ProgressFn& on_progress, const WarningFn& on_warning,
                      const ReportFn& on_report) {
  const MergePlan plan = plan_of(config_json, options, inputs, on_warning);
  MergeResult result;
  try {
    MergeProgress progress(on_progress, plan.input_bytes, plan.outputs.size());
    result.compute_seconds = write_shards(plan, options, outputs, progress, on_report);
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

std::string plan_merge(const std::string& config_json, const MergeOptions& options, InputFiles& inputs,
                       const WarningFn& on_warning) {
  return plan_event_json(plan_of(config_json, options, inputs, on_warning));
}

size_t run_analysis(const std::string& config_json, const MergeOptions& options, InputFiles& inputs,
                    const ProgressFn& on_progress, const WarningFn& on_warning, const ReportFn& on_report) {
  const MergePlan plan = plan_of(config_json, options, inputs, on_warning);
  if (plan.moe) fail("config", "", "the analysis compares task vectors of a merge; a mixture-of-experts config has none");
  MergeProgress progress(on_progress, plan.input_bytes, plan.outputs.size());
  ThreadPool pool(options.threads);
  TensorExecutor executor(pool, options.memory_mb << 20);
  for (const auto& out : plan.outputs) {
    progress.start_tensor(out.info.name);
    if (out.action != TensorAction::Merge) {
      progress.on_block()(out.copy_from->info.num_bytes());  // not read: nothing to report
      continue;
    }
    const std::string report = analyze_tensor(executor, out, progress.on_block());
    if (on_report) on_report(report);
  }
  return plan.outputs.size();
}

}  // namespace wasmerge
