#pragma once
// Evaluating models on the user's text (SPEC §9): per model, the mean negative
// log-likelihood of the text's tokens, its perplexity and bits per byte.
//
// The job (src/job.cpp reads it; the hosts tokenize, the engine has no tokenizer):
//   {"kind":"eval",
//    "models":[{"path":"<folder as a merge names it, `folder+adapter` too>",
//               "tokens":[ids...],        // the text through this model's tokenizer, specials added
//               "text_bytes":B}],         // the text's UTF-8 bytes (bits per byte divides by them)
//    "context":C|null,                    // window length; null: min(512, max_position_embeddings)
//    "threads":N, "memory_mb":M}
// Events, per model i in order:
//   {"event":"eval_start","model":i,"path":"...","layers":L,"windows":W,"groups":G}
//   {"event":"eval_layer","model":i,"layer":l,"layers":L,"group":g,"groups":G}   after layer l
//       (0-based) of window group g; G > 1 only when the windows' activations do not fit the
//       budget together; progress = (g·L + l + 1) / (G·L)
//   {"event":"eval_result","model":i,"path":"...","tokens":N,"predicted":P,"nll":x,
//    "perplexity":y,"bits_per_byte":z}
// then {"event":"done","files":[],"tensor_count":0,"tensor_bytes":0}, or the error event
// ({"event":"error","message":"<folder or file>: ...","cancelled":false|true}). A model's
// inputs (config, tensors, token ids, context) are checked before its eval_start.
//
// Meaning: the tokens cut into consecutive windows of C (the last one dropped when shorter
// than 2), positions from 0 in each; in a window of n tokens, −log p(token i | tokens < i)
// for i = 1..n−1 from the f32 forward pass, log-softmax streamed over lm_head's rows (never
// [tokens, vocab] in memory); nll = their f64 sum in window/token order / P, perplexity =
// exp(nll), bits_per_byte = sum / ln 2 / text_bytes. The same bits for any thread count and
// budget, natively and in WebAssembly.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "wasmerge/byte_io.hpp"
#include "wasmerge/thread_pool.hpp"

namespace wasmerge {

struct EvalModel {
  std::string path;
  std::vector<int32_t> tokens;
  uint64_t text_bytes = 0;
};

struct EvalResult {
  std::string path;
  uint64_t tokens = 0, predicted = 0;
  double nll_sum = 0, nll = 0, perplexity = 0, bits_per_byte = 0;
};

// Token windows: [first, first + length) of the token list.
struct EvalWindow {
  size_t first = 0, length = 0;
};
// SPEC §9's windows of `context` tokens (≥ 2), the last one dropped when shorter than 2.
std::vector<EvalWindow> eval_windows(size_t tokens, size_t context);

struct EvalProgress {
  // start: layers, windows and groups known; layer: after layer `layer` of group `group`.
  std::function<void(int layers, size_t windows, size_t groups)> on_start;
  std::function<void(int layer, int layers, size_t group, size_t groups)> on_layer;  // cancel: throw
};

// One model's evaluation. context 0: the default. budget_bytes bounds the weights' blocks and
// the activations (window groups are cut to fit it).
EvalResult evaluate_model(InputFiles& inputs, const EvalModel& model, uint64_t context, ThreadPool& pool,
                          uint64_t budget_bytes, const EvalProgress& progress);

}  // namespace wasmerge
