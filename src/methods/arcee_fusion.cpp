// arcee_fusion (SPEC §6): take the model's change only where it matters. Per row, how
// far the model's softmax moved from the base's (kl) times |m − b| is each entry's
// importance; the entries at or above median + 1.5·IQR of all importances take the
// model's value, the rest keep the base's.
//
// Rows: softmax and kl need whole rows (row chunks); they run in f64 with exp and log
// of our own (deterministic_math.hpp), and kl is rounded to f32 before it scales |m − b|.
// Quantiles: three exact order statistics of the importance over the whole tensor (mergekit
// samples a million), by radix select (magnitude_cuts.hpp over the importance as a derived
// series; it is never negative), then the write.
#include <algorithm>
#include <cmath>

#include "math/deterministic_math.hpp"
#include "passes/magnitude_cuts.hpp"
#include "pipeline/block_pipeline.hpp"
#include "wasmerge/method.hpp"
#include "wasmerge/plan.hpp"

namespace wasmerge {
namespace {

constexpr double kQuantiles[] = {0.25, 0.5, 0.75};

// Σ p·log(p/q) over one row, p = softmax(m) + 1e-8, q = softmax(b) + 1e-8.
double row_divergence(const float* m, const float* b, size_t c) {
  thread_local std::vector<double> p, q;
  auto softmax = [c](const float* x, std::vector<double>& e) {
    e.resize(c);
    const double top = *std::max_element(x, x + c);
    double sum = 0;
    for (size_t j = 0; j < c; ++j) sum += e[j] = deterministic_exp(x[j] - top);
    for (double& y : e) y = y / sum + 1e-8;
  };
  softmax(m, p);
  softmax(b, q);
  double kl = 0;
  for (size_t j = 0; j < c; ++j) kl += p[j] * deterministic_log(p[j] / q[j]);
  return kl;
}

// Each row's kl as an f32, found by the first pass that reads the row and kept for the
// next ones (the exps and logs cost far more than a pass). A chunk's rows are its own in
// every pass, and passes follow one another: no two threads touch one row's entry.
class RowDivergences {
 public:
  explicit RowDivergences(uint64_t rows) : kl_(rows), known_(rows, 0) {}
  // kl ≥ 0 in exact arithmetic (p and q have equal sums); a rounding below zero counts as
  // 0, so that every importance is a nonnegative float.
  float of(uint64_t row, const float* m, const float* b, size_t c) {
    if (!known_[row]) {
      kl_[row] = static_cast<float>(std::max(row_divergence(m, b, c), 0.0));
      known_[row] = 1;
    }
    return kl_[row];
  }

 private:
  std::vector<float> kl_;
  std::vector<uint8_t> known_;
};

// imp = |m − b| · kl of its row, in f32.
const float* importance(const Chunk& chunk, RowDivergences& divergences, float* out) {
  const size_t c = chunk.row_length;
  const float* b = chunk.base;
  const float* m = chunk.models[0];
  for (size_t row = 0; row < chunk.count; row += c) {
    const float kl = divergences.of((chunk.first + row) / c, m + row, b + row, c);
    for (size_t j = row; j < row + c; ++j) out[j] = std::fabs(m[j] - b[j]) * kl;
  }
  return out;
}

class FusionMerge : public TensorMerge {
 public:
  explicit FusionMerge(const OutputTensor& out)
      : elements_(out.info.num_elements()),
        row_(out.info.shape.empty() ? 1 : out.info.shape.back()),
        divergences_(row_ ? elements_ / row_ : 0) {
    std::vector<MagnitudeCuts::Selection> quantiles;
    for (double x : kQuantiles) {
      // sorted[r] (ascending), r = floor(x·(n − 1)), is the (n − r)-th largest.
      MagnitudeCuts::Selection s;
      s.keep = elements_ - static_cast<uint64_t>(std::floor(x * static_cast<double>(elements_ - 1)));
      s.exact = true;
      quantiles.push_back(s);
    }
    cuts_ = std::make_unique<MagnitudeCuts>(quantiles, elements_, [this](const Chunk& chunk, size_t, float* out) {
      return importance(chunk, divergences_, out);
    });
  }

  PipelineNeeds needs() const override {
    PipelineNeeds n;
    n.several_passes = true;
    n.row_length = row_;
    return n;
  }

  void prepare(BlockPipeline& pipeline) override {
    cuts_->select(pipeline);
    const double q1 = cuts_->threshold_value(0), median = cuts_->threshold_value(1), q3 = cuts_->threshold_value(2);
    threshold_ = median + 1.5 * (q3 - q1);
  }

  void combine(Chunk& chunk, float* out) const override {
    const float* imp = importance(chunk, divergences_, chunk.scratch);
    chunk.observe("importance", -1, imp);
    for (size_t i = 0; i < chunk.count; ++i) {
      const float delta = chunk.models[0][i] - chunk.base[i];
      out[i] = chunk.base[i] + delta * (static_cast<double>(imp[i]) >= threshold_ ? 1.0f : 0.0f);
    }
    chunk.observe("result", -1, out);
  }

 private:
  uint64_t elements_, row_;
  mutable RowDivergences divergences_;  // filled by whichever pass reads a row first
  std::unique_ptr<MagnitudeCuts> cuts_;
  double threshold_ = 0;
};

class ArceeFusion : public MergeMethod {
 public:
  std::string_view name() const override { return "arcee_fusion"; }
  std::string_view title() const override { return "Arcee Fusion"; }
  std::string_view url() const override {
    return "https://github.com/arcee-ai/mergekit/blob/main/docs/merge_methods.md#arcee-fusion-arcee_fusion";
  }
  std::string_view summary() const override {
    return "Takes the model's change only where it matters: where |m − b|, scaled by how far the row's softmax "
           "moved (KL divergence), reaches the median plus 1.5 interquartile ranges; elsewhere keeps the base.";
  }
  std::string_view formula() const override {
    return "imp = |m − b| · KL(softmax(m) ‖ softmax(b)) per row;  thr = Q(.5) + 1.5·(Q(.75) − Q(.25));  result = b + "
           "(m − b)·[imp ≥ thr]";
  }
  const std::vector<ParamSpec>& params() const override {
    static const std::vector<ParamSpec> none;
    return none;
  }
  ModelCount models() const override { return {1, 1}; }
  bool needs_base() const override { return true; }
  std::vector<Fact> needs() const override { return {Fact::RowBlocks, Fact::MagnitudeCuts}; }
  std::vector<std::string> stages() const override { return {"importance", "result"}; }
  std::unique_ptr<TensorMerge> bind(const OutputTensor& out) const override {
    return std::make_unique<FusionMerge>(out);
  }
};

}  // namespace

const MergeMethod& arcee_fusion_method() {
  static const ArceeFusion method;
  return method;
}

}  // namespace wasmerge
