#include "decoder/moe_mlp.hpp"

#include <algorithm>
#include <numeric>

#include "decoder/streamed_weights.hpp"
#include "math/deterministic_math.hpp"
#include "wasmerge/error.hpp"

namespace wasmerge {
namespace decoder {
namespace {

struct Route {
  int expert;
  float weight;
};

// transformers: softmax in f32 over the experts, topk, optional renormalization. Here the
// softmax is an f64 sum in expert order with the project's exp, each weight rounded to f32.
std::vector<Route> route(const float* logits, int experts, int k, bool normalize) {
  float max = logits[0];
  for (int e = 1; e < experts; ++e) max = std::max(max, logits[e]);
  std::vector<double> p(static_cast<size_t>(experts));
  double sum = 0;
  for (int e = 0; e < experts; ++e) sum += p[size_t(e)] = deterministic_exp(double(logits[e]) - double(max));
  for (double& v : p) v /= sum;
  std::vector<int> order(static_cast<size_t>(experts));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return p[size_t(a)] > p[size_t(b)]; });
  double total = 0;
  for (int i = 0; i < k; ++i) total += p[size_t(order[size_t(i)])];
  std::vector<Route> chosen;
  for (int i = 0; i < k; ++i) {
    const double w = p[size_t(order[size_t(i)])];
    chosen.push_back(Route{order[size_t(i)], static_cast<float>(normalize ? w / total : w)});
  }
  return chosen;
}

}  // namespace

void moe_mlp(const LayerRun& run, int l, std::vector<float>& h, const ExpertFn& expert) {
  const DecoderShape& s = run.shape;
  const size_t T = run.tokens, hidden = s.hidden, E = size_t(s.experts);
  const std::string prefix = "model.layers." + std::to_string(l) + ".";
  auto tensor = [&](const std::string& rest) -> const ModelTensor& {
    const ModelTensor* t = run.model.find(prefix + rest);
    if (!t) fail(run.model.path, prefix + rest, "is missing: the decoder reads it");
    return *t;
  };
  std::vector<float> logits(T * E);
  multiply_streamed(tensor(s.model_type == "mixtral" ? "block_sparse_moe.gate.weight" : "mlp.gate.weight"), h.data(), T,
                    nullptr, logits.data(), run.pool, run.budget);
  // Each expert's tokens (in token order) and their weights.
  std::vector<std::vector<size_t>> tokens_of(E);
  std::vector<std::vector<float>> weights_of(E);
  for (size_t t = 0; t < T; ++t)
    for (const Route& r : route(&logits[t * E], s.experts, s.top_k, s.norm_topk)) {
      tokens_of[size_t(r.expert)].push_back(t);
      weights_of[size_t(r.expert)].push_back(r.weight);
    }
  std::vector<float> out(T * hidden, 0.0f), in, y;
  for (size_t e = 0; e < E; ++e) {
    const std::vector<size_t>& rows = tokens_of[e];
    if (rows.empty()) continue;  // an expert no token chose is not read
    in.resize(rows.size() * hidden);
    for (size_t i = 0; i < rows.size(); ++i)
      std::copy(&h[rows[i] * hidden], &h[rows[i] * hidden] + hidden, &in[i * hidden]);
    expert(int(e), in.data(), rows.size(), y);
    for (size_t i = 0; i < rows.size(); ++i) {
      float* o = &out[rows[i] * hidden];
      const float w = weights_of[e][i];
      for (size_t j = 0; j < hidden; ++j) o[j] += y[i * hidden + j] * w;
    }
  }
  if (s.shared_intermediate) {
    std::vector<float> gate(T);
    multiply_streamed(tensor("mlp.shared_expert_gate.weight"), h.data(), T, nullptr, gate.data(), run.pool, run.budget);
    expert(s.experts, h.data(), T, y);
    for (size_t t = 0; t < T; ++t) {
      const float g = static_cast<float>(1.0 / (1.0 + deterministic_exp(-double(gate[t]))));
      for (size_t j = 0; j < hidden; ++j) out[t * hidden + j] += y[t * hidden + j] * g;
    }
  }
  h.swap(out);
}

}  // namespace decoder
}  // namespace wasmerge
