// Model Breadcrumbs' trim (SPEC §6 "outliers"): rank each task vector's entries by
// ascending |δ|, equal values ordered by flat index, and keep the ranks in
// [n_bot, N − n_top): the smallest entries and the γ·N largest outliers go. As two
// magnitude cuts per model, both ordering ties to the higher index: "the N − n_bot
// highest ranks" minus "the n_top highest ranks".
#include <cmath>

#include "passes/magnitude_cuts.hpp"
#include "passes/sparsifier.hpp"

namespace wasmerge {
namespace {

// Per model: selection 2k keeps the N − n_bot highest ranks, 2k + 1 the n_top highest.
std::vector<MagnitudeCuts::Selection> outlier_selections(const SparsifyInput& in) {
  const uint64_t n = in.elements;
  std::vector<MagnitudeCuts::Selection> selections;
  for (size_t k = 0; k < in.densities.size(); ++k) {
    uint64_t below_top = n, top = 0;  // d ≥ 1 keeps all
    if (in.densities[k] < 1) {
      const auto total = static_cast<int64_t>(n);
      int64_t n_top = static_cast<int64_t>(std::floor(in.params[k].at(0) * static_cast<double>(n)));
      const auto n_keep = static_cast<int64_t>(magnitude_keep_count(in.densities[k], n));
      int64_t n_bot = total - n_keep - n_top;
      if (n_bot < 0) {  // fewer outliers go, so that n_keep entries stay
        n_top += n_bot;
        n_bot = 0;
      }
      below_top = static_cast<uint64_t>(total - n_bot);
      top = static_cast<uint64_t>(n_top);
    }
    MagnitudeCuts::Selection s;
    s.source = k;
    s.ties_to_higher = true;
    s.keep = below_top;
    selections.push_back(s);
    s.keep = top;
    selections.push_back(s);
  }
  return selections;
}

class OutlierTrim : public Sparsifier {
 public:
  explicit OutlierTrim(const SparsifyInput& in) : cuts_(outlier_selections(in), in.elements) {}
  bool has_passes() const override { return cuts_.needs_select(); }
  void prepare(BlockPipeline& pipeline, bool) override { cuts_.select(pipeline); }
  const OrderedCount* order() const override { return cuts_.ties(); }
  void mask(const Chunk& chunk, size_t k, float* delta) const override {
    if (cuts_.cut(2 * k).keep_all && cuts_.cut(2 * k + 1).keep_none) return;
    thread_local std::vector<uint8_t> from_bottom, outlier;
    from_bottom.resize(chunk.count);
    outlier.resize(chunk.count);
    cuts_.flags(chunk, 2 * k, delta, from_bottom.data());
    cuts_.flags(chunk, 2 * k + 1, delta, outlier.data());
    for (size_t i = 0; i < chunk.count; ++i)
      if (!from_bottom[i] || outlier[i]) delta[i] = 0.0f;
  }

 private:
  MagnitudeCuts cuts_;
};

ParamSpec gamma_param() {
  ParamSpec p = ParamSpec::number("gamma", ParamSpec::Scope::PerModel, 0.01);
  p.min = 0.0;
  p.max = 1.0;
  return p;
}

}  // namespace

const SparsifyRule& outliers_rule() {
  static const SparsifyRule rule{
      "outliers", {Fact::MagnitudeCuts}, {gamma_param()}, [](const SparsifyInput& in) -> std::unique_ptr<Sparsifier> {
        return std::make_unique<OutlierTrim>(in);
      }};
  return rule;
}

}  // namespace wasmerge
