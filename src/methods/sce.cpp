// sce (SPEC §6; FuseChat's Select, Calculate, Erase): keep, for all models alike, the
// entries whose task vectors vary most across models (select_topk of the nonzero
// variances); weight each model by mean(δ_k²) of what is kept; elect a sign per entry
// from the unweighted task vectors and average the agreeing ones by those weights.
//
// Passes: when select_topk < 1, a count of nonzero variances, then the variance cut
// (magnitude_cuts.hpp over the variance as a derived series); always the mean squares
// (f64 per chunk, folded in order); then the write.
#include <algorithm>
#include <cmath>

#include "passes/magnitude_cuts.hpp"
#include "pipeline/block_pipeline.hpp"
#include "wasmerge/method.hpp"
#include "wasmerge/plan.hpp"

namespace wasmerge {
namespace {

// Population variance across the models of each entry, in f32 (mergekit's torch.var:
// the mean first, then the mean squared distance from it).
const float* variance(const Chunk& chunk, size_t, float* out) {
  const size_t K = chunk.model_count;
  const float models = static_cast<float>(K);
  for (size_t i = 0; i < chunk.count; ++i) {
    float sum = 0.0f;
    for (size_t k = 0; k < K; ++k) sum = sum + chunk.models[k][i];
    const float mean = sum / models;
    float squares = 0.0f;
    for (size_t k = 0; k < K; ++k) {
      const float d = chunk.models[k][i] - mean;
      squares = squares + d * d;
    }
    out[i] = squares / models;
  }
  return out;
}

class SceMerge : public TensorMerge {
 public:
  SceMerge(const MergeMethod& method, const OutputTensor& out)
      : elements_(out.info.num_elements()),
        topk_(out.params.number(*method.param("select_topk"))),
        weights_(out.inputs.size(), 1.0f) {}

  PipelineNeeds needs() const override {
    PipelineNeeds n;
    n.task_vectors = true;
    n.several_passes = true;
    return n;
  }

  void prepare(BlockPipeline& pipeline) override {
    if (topk_ < 1) select_variance(pipeline);
    weigh(pipeline);
  }

  const OrderedCount* write_count() const override { return cuts_ ? cuts_->ties() : nullptr; }

  void combine(Chunk& chunk, float* out) const override {
    const size_t n = chunk.count, K = chunk.model_count;
    for (size_t k = 0; k < K; ++k) chunk.observe("delta", static_cast<int>(k), chunk.models[k]);
    erase_unselected(chunk);
    for (size_t k = 0; k < K; ++k) chunk.observe("kept", static_cast<int>(k), chunk.models[k]);
    for (size_t i = 0; i < n; ++i) {
      float sum = chunk.models[0][i];
      for (size_t k = 1; k < K; ++k) sum = sum + chunk.models[k][i];
      const bool positive = sum >= 0.0f;
      float mixed = 0.0f, divisor = 0.0f;
      for (size_t k = 0; k < K; ++k) {
        const float d = chunk.models[k][i];
        if (d != 0.0f && (d > 0.0f) == positive) {
          mixed = mixed + weights_[k] * d;
          divisor = divisor + weights_[k];
        }
      }
      out[i] = chunk.base[i] + mixed / std::max(divisor, 1e-6f);
    }
    chunk.observe("result", -1, out);
  }

 private:
  void select_variance(BlockPipeline& pipeline) {
    uint64_t nonzero = 0;
    pipeline.reduce<uint64_t>(
        [](Chunk& chunk) {
          const float* var = variance(chunk, 0, chunk.scratch);
          return static_cast<uint64_t>(std::count_if(var, var + chunk.count, [](float v) { return v != 0.0f; }));
        },
        [&](uint64_t& part) { nonzero += part; });
    MagnitudeCuts::Selection largest;
    largest.keep = static_cast<uint64_t>(std::max(0.0, std::floor(static_cast<double>(nonzero) * topk_)));
    cuts_ = std::make_unique<MagnitudeCuts>(std::vector<MagnitudeCuts::Selection>{largest}, elements_, variance);
    cuts_->select(pipeline);
  }

  // Zeroes, in every model's δ, the entries the variance cut drops.
  void erase_unselected(Chunk& chunk) const {
    if (!cuts_) return;
    thread_local std::vector<uint8_t> kept;
    kept.resize(chunk.count);
    cuts_->flags(chunk, 0, cuts_->values(chunk, 0), kept.data());
    for (size_t k = 0; k < chunk.model_count; ++k)
      for (size_t i = 0; i < chunk.count; ++i)
        if (!kept[i]) chunk.models[k][i] = 0.0f;
  }

  // w_k = mean(δ_k²) of the kept entries, normalized to sum 1 (uniform when the sum < 1e-6).
  void weigh(BlockPipeline& pipeline) {
    const size_t K = weights_.size();
    std::vector<double> squares(K, 0.0);
    pipeline.reduce<std::vector<double>>(
        [&](Chunk& chunk) {
          erase_unselected(chunk);
          std::vector<double> part(K);
          for (size_t k = 0; k < K; ++k) {
            double s[4] = {0, 0, 0, 0};
            for (size_t i = 0; i < chunk.count; ++i) {
              const double d = chunk.models[k][i];
              s[i % 4] += d * d;
            }
            part[k] = (s[0] + s[2]) + (s[1] + s[3]);
          }
          return part;
        },
        [&](std::vector<double>& part) {
          for (size_t k = 0; k < K; ++k) squares[k] += part[k];
        },
        write_count());
    double total = 0;
    for (double& s : squares) total += s /= static_cast<double>(elements_);
    for (size_t k = 0; k < K; ++k)
      weights_[k] = static_cast<float>(total < 1e-6 ? 1.0 / static_cast<double>(K) : squares[k] / total);
  }

  uint64_t elements_;
  double topk_;
  std::vector<float> weights_;
  std::unique_ptr<MagnitudeCuts> cuts_;  // the variance cut, when select_topk < 1
};

class Sce : public MergeMethod {
 public:
  Sce() {
    ParamSpec topk = ParamSpec::number("select_topk", ParamSpec::Scope::Global, 1.0);
    topk.min = 0.0;
    params_ = {topk, ParamSpec::boolean("int8_mask", false)};  // int8_mask: accepted; it only saves memory in mergekit
  }
  std::string_view name() const override { return "sce"; }
  std::string_view title() const override { return "SCE"; }
  std::string_view url() const override { return "https://arxiv.org/abs/2408.07990"; }
  std::string_view summary() const override {
    return "Keeps the entries where the models' task vectors disagree most (select_topk of the variance), weights "
           "each model by the energy of what it kept, and averages the models that agree with the elected sign.";
  }
  std::string_view formula() const override {
    return "δₖ = mₖ − b kept where Var(δ) is in the top select_topk;  wₖ ∝ mean(δₖ²);  γ = sign(Σ δₖ);  result = "
           "b + Σ[sign = γ] wₖ·δₖ / Σ[sign = γ] wₖ";
  }
  const std::vector<ParamSpec>& params() const override { return params_; }
  bool needs_base() const override { return true; }
  std::vector<Fact> needs() const override { return {Fact::MagnitudeCuts, Fact::DotProducts}; }
  std::vector<std::string> stages() const override { return {"delta", "kept", "result"}; }
  std::unique_ptr<TensorMerge> bind(const OutputTensor& out) const override {
    return std::make_unique<SceMerge>(*this, out);
  }

 private:
  std::vector<ParamSpec> params_;
};

}  // namespace

const MergeMethod& sce_method() {
  static const Sce method;
  return method;
}

}  // namespace wasmerge
