// The forward pass's outer loop: embeddings, the layers in order, the final norm and lm_head.
#include "wasmerge/decoder.hpp"

#include <algorithm>
#include <limits>

#include "decoder/attention.hpp"
#include "decoder/decoder_layer.hpp"
#include "decoder/layer_ops.hpp"
#include "decoder/streamed_weights.hpp"
#include "math/deterministic_math.hpp"
#include "wasmerge/error.hpp"

namespace wasmerge {
namespace {

constexpr const char* kEmbeddings = "model.embed_tokens.weight";

const ModelTensor& output_matrix(const Model& model, const DecoderShape& s) {
  return decoder::decoder_tensor(model, s.tie_embeddings ? kEmbeddings : "lm_head.weight",
                                 {s.vocab, uint64_t(s.hidden)});
}

}  // namespace

Decoder::Decoder(const Model& model, DecoderShape shape, ThreadPool& pool, uint64_t budget_bytes)
    : model_(model), shape_(std::move(shape)), pool_(pool), budget_(budget_bytes) {
  // Every tensor is checked now, from the headers, so a run never fails halfway.
  decoder::decoder_tensor(model_, kEmbeddings, {shape_.vocab, uint64_t(shape_.hidden)});
  for (int l = 0; l < shape_.layers; ++l) decoder::check_layer_tensors(model_, shape_, l);
  decoder::decoder_tensor(model_, "model.norm.weight", {uint64_t(shape_.hidden)});
  output_matrix(model_, shape_);
}

namespace {

// The runs' common start: sequence spans and the embeddings of every token.
struct Tokens {
  std::vector<decoder::SequenceSpan> spans;
  std::vector<int32_t> ids;
  size_t longest = 0;
};

Tokens concatenate(const std::vector<std::vector<int32_t>>& sequences) {
  Tokens t;
  for (const auto& seq : sequences) {
    t.spans.push_back(decoder::SequenceSpan{t.ids.size(), seq.size()});
    t.ids.insert(t.ids.end(), seq.begin(), seq.end());
    t.longest = std::max(t.longest, seq.size());
  }
  return t;
}

}  // namespace

void Decoder::hidden_states(const std::vector<std::vector<int32_t>>& sequences, int last_layer,
                            const HiddenStatesFn& on_layer) {
  if (last_layer < 0 || last_layer > shape_.layers)
    fail(model_.path, "",
         "hidden states of layer " + std::to_string(last_layer) + " asked of a model with " +
             std::to_string(shape_.layers) + " layers");
  const Tokens tokens = concatenate(sequences);
  const size_t T = tokens.ids.size(), hidden = shape_.hidden;
  std::vector<float> x(T * hidden);
  decoder::read_rows(*model_.find(kEmbeddings), tokens.ids, x.data());
  if (on_layer) on_layer(0, x.data(), T);
  if (last_layer == 0 || T == 0) {
    for (int l = 1; l <= last_layer && on_layer; ++l) on_layer(l, x.data(), T);
    return;
  }
  const decoder::RopeTable rope(shape_, tokens.longest);
  const decoder::LayerRun run{model_, shape_, pool_, budget_, tokens.spans, rope, T};
  for (int l = 0; l < last_layer; ++l) {
    decoder::run_layer(run, l, x);
    if (on_layer) on_layer(l + 1, x.data(), T);
  }
}

std::vector<float> Decoder::logits(const std::vector<std::vector<int32_t>>& sequences) {
  std::vector<float> x;
  size_t T = 0;
  hidden_states(sequences, shape_.layers, [&](int layer, const float* states, size_t tokens) {
    if (layer == shape_.layers) {
      x.assign(states, states + tokens * shape_.hidden);
      T = tokens;
    }
  });
  const size_t hidden = shape_.hidden;
  const std::vector<float> norm = decoder::read_vector(*model_.find("model.norm.weight"));
  std::vector<float> h(T * hidden);
  pool_.parallel_for(
      T, [&](size_t t) { decoder::rms_norm(&x[t * hidden], norm.data(), hidden, shape_.rms_eps, &h[t * hidden]); });
  x = std::vector<float>();
  std::vector<float> out(T * shape_.vocab);
  decoder::multiply_streamed(output_matrix(model_, shape_), h.data(), T, nullptr, out.data(), pool_, budget_);
  return out;
}

namespace {

// A token's log-softmax, accumulated over the vocabulary in row order: the largest logit so
// far and Σ exp(logit − max) (rescaled when the max rises), and the target's logit.
struct RunningSoftmax {
  float max = -std::numeric_limits<float>::infinity();
  double sum = 0;
  float target = 0;
  void add(float logit) {
    if (sum == 0) {
      max = logit, sum = 1;
    } else if (logit > max) {
      sum = sum * deterministic_exp(double(max) - double(logit)) + 1;
      max = logit;
    } else {
      sum += deterministic_exp(double(logit) - double(max));
    }
  }
  double nll() const { return double(max) + deterministic_log(sum) - double(target); }
};

}  // namespace

std::vector<double> Decoder::next_token_nll(const std::vector<std::vector<int32_t>>& sequences,
                                            const std::function<void(int layer)>& after_layer) {
  const size_t hidden = shape_.hidden;
  // The rows that predict a token (every one but each sequence's last) and their targets.
  std::vector<size_t> rows;
  std::vector<int32_t> targets;
  {
    size_t first = 0;
    for (const auto& seq : sequences) {
      for (size_t i = 0; i + 1 < seq.size(); ++i) {
        rows.push_back(first + i);
        targets.push_back(seq[i + 1]);
      }
      first += seq.size();
    }
  }
  // Every target is also an input token, which the embedding lookup checks against the
  // vocabulary before any layer runs.
  const size_t P = rows.size();
  std::vector<float> h(P * hidden);
  const std::vector<float> norm = decoder::read_vector(*model_.find("model.norm.weight"));
  hidden_states(sequences, shape_.layers, [&](int layer, const float* states, size_t) {
    if (layer > 0 && after_layer) after_layer(layer - 1);
    if (layer != shape_.layers) return;
    pool_.parallel_for(P, [&](size_t p) {
      decoder::rms_norm(states + rows[p] * hidden, norm.data(), hidden, shape_.rms_eps, &h[p * hidden]);
    });
  });
  std::vector<RunningSoftmax> soft(P);
  // Each token's logits of a block, in vocabulary order, one task per token.
  auto on_block = [&](size_t row0, size_t n, const float* y) {
    pool_.parallel_for(P, [&](size_t p) {
      const float* logits = y + p * n;
      for (size_t r = 0; r < n; ++r) soft[p].add(logits[r]);
      const size_t target = static_cast<size_t>(targets[p]);
      if (target >= row0 && target < row0 + n) soft[p].target = logits[target - row0];
    });
  };
  decoder::multiply_streamed_blocks(output_matrix(model_, shape_), h.data(), P, pool_, budget_, on_block);
  std::vector<double> out(P);
  for (size_t p = 0; p < P; ++p) out[p] = soft[p].nll();
  return out;
}

uint64_t Decoder::activation_bytes_per_token() const {
  const DecoderShape& s = shape_;
  const uint64_t q = uint64_t(s.heads) * s.head_dim, kv = uint64_t(s.kv_heads) * s.head_dim;
  const uint64_t widest_mlp =
      std::max<uint64_t>(s.intermediate, std::max<uint64_t>(s.moe_intermediate, s.shared_intermediate));
  // x, h, the MoE's input copy and sum; q, k, v, attention's output; gate and up; routing.
  return sizeof(float) * (4 * uint64_t(s.hidden) + 2 * q + 2 * kv + 2 * widest_mlp + uint64_t(s.experts) + 16);
}

}  // namespace wasmerge
