// DARE's drop (SPEC §2): model k keeps element i iff (splitmix64(s_k + i) >> 40) is below
// floor(d·2^24 + 0.5), a pure function of (seed, tensor, model, index). When the masks
// are applied twice to a tensor kept in memory (the L1 pass, then the write), the first
// pass records each draw and the second replays it rather than drawing again.
#include "passes/sparsifier.hpp"
#include "wasmerge/sparsify.hpp"

namespace wasmerge {
namespace {

class RandomDrop : public Sparsifier {
 public:
  explicit RandomDrop(const SparsifyInput& in) : elements_(in.elements), streams_(in.dare_streams) {
    for (double d : in.densities) thresholds_.push_back(dare_threshold(d));
  }
  uint64_t bytes_per_element() const override { return thresholds_.size(); }
  void prepare(BlockPipeline& pipeline, bool masked_twice) override {
    if (masked_twice && pipeline.cached()) kept_.assign(thresholds_.size(), std::vector<uint8_t>(elements_));
  }
  void mask(const Chunk& chunk, size_t k, float* delta) const override {
    uint8_t* kept = kept_.empty() ? nullptr : kept_[k].data() + chunk.first;
    if (kept && recorded_)
      apply_kept(kept, delta, chunk.count);
    else
      dare_mask(streams_[k], thresholds_[k], delta, chunk.count, chunk.first, kept);
  }
  void pass_done() override { recorded_ = !kept_.empty(); }

 private:
  uint64_t elements_;
  std::vector<uint64_t> streams_;
  std::vector<uint32_t> thresholds_;
  mutable std::vector<std::vector<uint8_t>> kept_;  // [model][element]: 1 kept; chunks write their own ranges
  bool recorded_ = false;
};

}  // namespace

const SparsifyRule& random_rule() {
  static const SparsifyRule rule{"random", {}, {}, [](const SparsifyInput& in) -> std::unique_ptr<Sparsifier> {
                                   return std::make_unique<RandomDrop>(in);
                                 }};
  return rule;
}

}  // namespace wasmerge
