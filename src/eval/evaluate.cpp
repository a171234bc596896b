// One model's evaluation on a tokenized text (SPEC §9): the checks, the windows, the groups of
// windows that fit the budget, and the sums.
#include <algorithm>
#include <cmath>

#include "math/deterministic_math.hpp"
#include "wasmerge/decoder.hpp"
#include "wasmerge/error.hpp"
#include "wasmerge/eval.hpp"
#include "wasmerge/model.hpp"

namespace wasmerge {

std::vector<EvalWindow> eval_windows(size_t tokens, size_t context) {
  std::vector<EvalWindow> out;
  for (size_t first = 0; first < tokens; first += context) {
    const size_t length = std::min(context, tokens - first);
    if (length >= 2) out.push_back(EvalWindow{first, length});
  }
  return out;
}

namespace {

constexpr uint64_t kDefaultContext = 512;

// Consecutive windows whose activations fit `bytes` together (at least one window each).
std::vector<std::vector<EvalWindow>> window_groups(const std::vector<EvalWindow>& windows, uint64_t bytes_per_token,
                                                   uint64_t bytes) {
  std::vector<std::vector<EvalWindow>> groups;
  uint64_t used = 0;
  for (const EvalWindow& w : windows) {
    const uint64_t cost = w.length * bytes_per_token;
    if (groups.empty() || used + cost > bytes) {
      groups.emplace_back();
      used = 0;
    }
    groups.back().push_back(w);
    used += cost;
  }
  return groups;
}

}  // namespace

EvalResult evaluate_model(InputFiles& inputs, const EvalModel& request, uint64_t context, ThreadPool& pool,
                          uint64_t budget_bytes, const EvalProgress& progress) {
  const Model model = open_model(inputs, request.path);
  const std::string config_path = model.folder_file("config.json");
  if (!model.is_folder || !inputs.file_size(config_path))
    fail(request.path, "", "needs its config.json to be evaluated (give the model's folder)");
  const DecoderShape shape = read_decoder_shape(read_small_file(inputs, config_path), config_path);
  if (request.tokens.empty()) fail(request.path, "", "the text has no tokens to evaluate");
  for (int32_t id : request.tokens)
    if (id < 0 || static_cast<uint64_t>(id) >= shape.vocab)
      fail(request.path, "",
           "token id " + std::to_string(id) + " is outside the vocabulary (vocab_size " + std::to_string(shape.vocab) +
               ")");
  if (context == 0) context = shape.max_positions ? std::min(kDefaultContext, shape.max_positions) : kDefaultContext;
  if (shape.max_positions && context > shape.max_positions)
    fail(config_path, "",
         "context " + std::to_string(context) + " is longer than the model's max_position_embeddings (" +
             std::to_string(shape.max_positions) + ")");
  if (context < 2) fail(request.path, "", "context must be at least 2 tokens");
  const std::vector<EvalWindow> windows = eval_windows(request.tokens.size(), size_t(context));
  if (windows.empty())
    fail(request.path, "", "the text is " + std::to_string(request.tokens.size()) + " token: nothing to predict");

  // Half the budget for the weights' blocks, half for the activations of a group of windows.
  Decoder decoder(model, shape, pool, std::max<uint64_t>(1, budget_bytes / 2));
  const auto groups = window_groups(windows, decoder.activation_bytes_per_token(), budget_bytes / 2);
  if (progress.on_start) progress.on_start(shape.layers, windows.size(), groups.size());

  EvalResult r;
  r.path = request.path;
  r.tokens = request.tokens.size();
  for (size_t g = 0; g < groups.size(); ++g) {
    std::vector<std::vector<int32_t>> sequences;
    for (const EvalWindow& w : groups[g])
      sequences.emplace_back(request.tokens.begin() + std::ptrdiff_t(w.first),
                             request.tokens.begin() + std::ptrdiff_t(w.first + w.length));
    const std::vector<double> nll = decoder.next_token_nll(sequences, [&](int layer) {
      if (progress.on_layer) progress.on_layer(layer, shape.layers, g, groups.size());
    });
    for (double v : nll) r.nll_sum += v;  // window then token order, whatever the groups
    r.predicted += nll.size();
  }
  r.nll = r.nll_sum / double(r.predicted);
  r.perplexity = deterministic_exp(r.nll);
  r.bits_per_byte = request.text_bytes ? r.nll_sum / deterministic_log(2.0) / double(request.text_bytes) : 0;
  return r;
}

}  // namespace wasmerge
