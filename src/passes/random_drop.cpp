// DARE's drop (SPEC §2): model k keeps element i iff (splitmix64(s_k + i) >> 40) is below
// floor(d·2^24 + 0.5), a pure function of (seed, tensor, model, index). When the masks
// are applied twice to a tensor kept in memory (the L1 pass, then the write), the first
// pass records each draw, a bit each, and the second replays it rather than drawing again.
#include <memory>
#include <vector>

#include "passes/sparsifier.hpp"
#include "wasmerge/kernels.hpp"
#include "wasmerge/sparsify.hpp"

namespace wasmerge {
namespace {

class RandomDrop : public Sparsifier {
 public:
  explicit RandomDrop(const SparsifyInput& in) : elements_(in.elements), streams_(in.dare_streams) {
    for (double d : in.densities) thresholds_.push_back(dare_threshold(d));
  }
  uint64_t bytes_per_element() const override { return (thresholds_.size() + 7) / 8; }
  void prepare(BlockPipeline& pipeline, bool masked_twice) override {
    // Uninitialized: the first pass writes every bit before the second reads it.
    if (masked_twice && pipeline.cached()) kept_.reset(new uint8_t[bytes_per_model() * thresholds_.size()]);
  }
  void mask(const Chunk& chunk, size_t k, float* delta) const override {
    if (!kept_) return dare_mask(streams_[k], thresholds_[k], delta, chunk.count, chunk.first);
    apply_kept(draws(chunk, k), delta, chunk.count);
  }
  bool kept_abs_sums(const Chunk& chunk, size_t k, const float* delta, double* all, double* kept) const override {
    const uint8_t* drawn = draws(chunk, k);
    const RawModel& m = chunk.raw_models[k];
    if (chunk.converted) abs_sums_kept(delta, drawn, chunk.count, all, kept);
    else abs_sums_kept(m.dtype, m.bytes, m.base, drawn, chunk.count, all, kept);
    return true;
  }
  bool sums_as_read() const override { return true; }
  bool fold_mask(const Chunk& chunk, size_t k, const float*, WeighedDelta& into) const override {
    if (!recorded_) return false;
    into.kept_bits = record(chunk, k);
    return true;
  }
  void pass_done() override { recorded_ = kept_ != nullptr; }

 private:
  uint64_t bytes_per_model() const { return (elements_ + 7) / 8; }
  // Where model k's draws for this chunk are recorded, or null when they are not.
  uint8_t* record(const Chunk& chunk, size_t k) const {
    return kept_ ? kept_.get() + k * bytes_per_model() + chunk.first / 8 : nullptr;  // chunks start at multiples of 8
  }
  // The chunk's decisions for model k as flags (1 kept) in a buffer of this thread's: drawn,
  // and recorded when a later pass will replay them, or replayed.
  const uint8_t* draws(const Chunk& chunk, size_t k) const {
    thread_local std::vector<uint8_t> flags;
    flags.resize(chunk.count);
    uint8_t* bits = record(chunk, k);
    if (recorded_) {
      unpack_flags(bits, chunk.count, flags.data());
    } else {
      dare_flags(streams_[k], thresholds_[k], chunk.count, chunk.first, flags.data());
      if (bits) pack_flags(flags.data(), chunk.count, bits);
    }
    return flags.data();
  }
  uint64_t elements_;
  std::vector<uint64_t> streams_;
  std::vector<uint32_t> thresholds_;
  // A bit per model and element (1: kept), recorded by the first of two masking passes;
  // chunks write their own bytes.
  std::unique_ptr<uint8_t[]> kept_;
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
