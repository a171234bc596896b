#pragma once
// A job as the hosts hand it to the engine: one JSON object
//   {"kind": "merge",            // merge (default) | plan | analyze | describe | extract_lora
//    "config": {...mergekit config as JSON...}, "config_text": "the user's YAML",
//    "out_dir": "...", "threads": 0, "memory_mb": 1024, "out_shard_size": 5e9,
//    "random_seed": null, "explain": {"tensor": "...", "offset": 0, "count": 256},
//    "prompt_tokens": {"prompt text": [ids...]}}   // an MoE config's prompts, tokenized by the host
//   config: a merge config, or a mergekit-moe one (`experts:`, no merge_method)
//   kind plan:     a dry run from the headers alone; writes nothing ("analyze": true is
//                  kind analyze, as before)
//   kind describe: needs nothing else; reports the method catalogue
//   kind extract_lora: no config; {"base","model","rank","out_dir","sv_epsilon":0,
//                  "distribute_scale":true,"embed_lora":false,"include":null,"exclude":null,
//                  "dtype":null (the fine-tune's),"svd":"auto"|"exact"|"randomized",
//                  "random_seed":0,"threads","memory_mb"} writes a PEFT adapter
//                  (wasmerge/extract_lora.hpp); progress per tensor, then done
//   kind eval:     no config; {"models":[{"path","tokens":[ids],"text_bytes":B}],"context":C|null,
//                  "threads","memory_mb"}: each model's NLL, perplexity and bits per byte on the
//                  host-tokenized text; events eval_start, eval_layer, eval_result per model, then
//                  done (wasmerge/eval.hpp)
// and the events it reports back, one JSON object per line:
//   {"event":"warning","message":"..."}
//   {"event":"progress","bytes_done":N,"bytes_total":N,"tensor":"...","tensor_index":i,"tensor_count":n}
//   {"event":"forward","layer":l,"layers":L}      MoE prompt routers: the base's forward pass, per layer
//   {"event":"explain","tensor":..,"method":..,"stages":[..],"delta":[[..]],..}   merge with "explain"
//   {"event":"tensor_report",...}                              analyze, one per mergeable tensor
//   {"event":"plan","files":[{"name","bytes"}],"index":b,"input_bytes":N,"output_bytes":N,
//    "tensor_count":n,"layers":{"output":L,"map":[{"output":[a,b],"sources":[{"model","layers":[c,d]}]}]},
//    "config_edits":{...},"moe":null|{"architecture","experts","gate_mode"},
//    "tensors":[{"name","dtype","shape","file","action","sources":[{"model","tensor"}|{"computed"}]}]}
//   {"event":"methods","methods":[{"name","title","url","summary","models":{"min","max"},
//    "needs_base","needs":[..],"stages":[..],"params":[{"name","scope","kind","default","required",..}]}]}
//   {"event":"eval_start"|"eval_layer"|"eval_result",...}        eval (wasmerge/eval.hpp)
//   {"event":"done","files":[...],"tensor_count":n,"tensor_bytes":N}   merge and analyze (eval: no files)
//   {"event":"error","message":"...","cancelled":false}
// The node CLI and the web worker read these the same way from the native and wasm runs.
#include <functional>
#include <memory>
#include <string>

#include "wasmerge/merge.hpp"

namespace wasmerge {

using EmitFn = std::function<void(const std::string& event_json)>;
using OutputFactory = std::function<std::unique_ptr<OutputFiles>(const std::string& out_dir)>;
using CancelFn = std::function<bool()>;

// Runs the job, reporting through emit; returns the exit status: 0 done, 1 failed,
// 130 cancelled. Never throws. make_outputs is called for merge and extract_lora jobs only.
int run_job(const std::string& job_json, InputFiles& inputs, const OutputFactory& make_outputs, const EmitFn& emit,
            const CancelFn& cancelled = {});

}  // namespace wasmerge
