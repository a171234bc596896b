#pragma once
// The engine's one entry point, the same for every host: config in, model out.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "wasmerge/byte_io.hpp"

namespace wasmerge {

struct Progress {
  uint64_t bytes_done = 0;   // input bytes read so far
  uint64_t bytes_total = 0;  // input bytes the merge reads in all
  const std::string* tensor = nullptr;  // the tensor being merged
  size_t tensor_index = 0, tensor_count = 0;
};

// Return false to cancel: the merge stops, its output is discarded, run_merge throws.
using ProgressFn = std::function<bool(const Progress&)>;
using WarningFn = std::function<void(const std::string&)>;
using ReportFn = std::function<void(const std::string& event_json)>;  // explain, tensor_report

// Report the steps of one tensor (explain event): elements [offset, offset + count).
struct ExplainRequest {
  std::string tensor;
  uint64_t offset = 0;
  size_t count = 256;
};

struct MergeOptions {
  unsigned threads = 0;                        // 0: every core
  uint64_t memory_mb = 1024;                   // the engine's working memory
  uint64_t out_shard_size = 5'000'000'000ull;  // bytes per output shard
  std::optional<uint64_t> random_seed;         // overrides the config's
  std::string config_text;                     // the user's own text (YAML), for the model card
  std::optional<ExplainRequest> explain;       // report the steps of one tensor
  // An MoE config's prompts, tokenized by the host with the base's tokenizer.json (the
  // engine has no tokenizer): prompt text -> token ids.
  std::map<std::string, std::vector<int32_t>> prompt_tokens;
};

struct MergeResult {
  std::vector<std::string> files;  // written into the output, final names
  uint64_t tensor_bytes = 0;
  size_t tensor_count = 0;
  double compute_seconds = 0;  // the thread pool's busy time (ThreadPool::busy_seconds)
};

class Cancelled : public std::runtime_error {
 public:
  Cancelled() : std::runtime_error("merge cancelled") {}
};

MergeResult run_merge(const std::string& config_json, const MergeOptions& options, InputFiles& inputs,
                      OutputFiles& outputs, const ProgressFn& on_progress = {}, const WarningFn& on_warning = {},
                      const ReportFn& on_report = {});

// The dry run: the plan from headers alone, as {"event":"plan",...}; writes nothing.
std::string plan_merge(const std::string& config_json, const MergeOptions& options, InputFiles& inputs,
                       const WarningFn& on_warning = {});

// Writes nothing; reports each mergeable tensor's task vectors ({"event":"tensor_report"},
// src/analysis.hpp): |δ| by binade, sign conflicts, overlap of the top-k sets; returns the tensor count.
size_t run_analysis(const std::string& config_json, const MergeOptions& options, InputFiles& inputs,
                  const ProgressFn& on_progress = {}, const WarningFn& on_warning = {}, const ReportFn& on_report = {});

}  // namespace wasmerge
