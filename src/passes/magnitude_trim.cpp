// TIES' trim (SPEC §2): per model, exactly floor(d·n) entries of largest |δ| survive, ties
// to the lower index: one magnitude cut per model.
#include "passes/magnitude_cuts.hpp"
#include "passes/sparsifier.hpp"

namespace wasmerge {
namespace {

class MagnitudeTrim : public Sparsifier {
 public:
  explicit MagnitudeTrim(const SparsifyInput& in) : cuts_(in.densities, in.elements) {}
  bool has_passes() const override { return cuts_.needs_select(); }
  void prepare(BlockPipeline& pipeline, bool) override { cuts_.select(pipeline); }
  const OrderedCount* order() const override { return cuts_.ties(); }
  void mask(const Chunk& chunk, size_t k, float* delta) const override { cuts_.mask(chunk, k, delta); }
  bool fold_mask(const Chunk& chunk, size_t k, const float* delta, WeighedDelta& into) const override {
    return cuts_.min_kept_bits(chunk, k, delta, &into.min_bits);
  }

 private:
  MagnitudeCuts cuts_;
};

}  // namespace

const SparsifyRule& magnitude_rule() {
  static const SparsifyRule rule{
      "magnitude", {Fact::MagnitudeCuts}, {}, [](const SparsifyInput& in) -> std::unique_ptr<Sparsifier> {
        return std::make_unique<MagnitudeTrim>(in);
      }};
  return rule;
}

}  // namespace wasmerge
