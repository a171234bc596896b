#include "passes/magnitude_cuts.hpp"

#include <algorithm>
#include <functional>

namespace wasmerge {

MagnitudeCuts::MagnitudeCuts(const std::vector<double>& densities, uint64_t elements) : elements_(elements) {
  for (double d : densities) {
    select_.emplace_back(elements, magnitude_keep_count(d, elements));
    cuts_.push_back(select_.back().trivial_cut());
  }
}

bool MagnitudeCuts::needs_select() const {
  return std::any_of(select_.begin(), select_.end(), [](const RadixSelect& s) { return s.needs_passes(); });
}

const OrderedCount* MagnitudeCuts::ties() const {
  return std::any_of(cuts_.begin(), cuts_.end(), [](const MagnitudeCut& c) { return c.partial_tie(); }) ? this
                                                                                                        : nullptr;
}

void MagnitudeCuts::mask(const Chunk& chunk, size_t k, float* delta) const {
  magnitude_mask(cuts_[k], delta, chunk.count, chunk.before ? chunk.before[k] : 0);
}

void MagnitudeCuts::count(const Chunk& chunk, uint64_t* counts) const {
  for (size_t k = 0; k < cuts_.size(); ++k) {
    if (!cuts_[k].partial_tie()) continue;
    uint64_t ties = 0;
    for (size_t i = 0; i < chunk.count; ++i) ties += magnitude_bits(chunk.models[k][i]) == cuts_[k].threshold;
    counts[k] = ties;
  }
}

// A tensor of one chunk is cut directly from its |δ| bit patterns (selecting the k-th
// largest, O(n)): the same cut as the two tally passes, which cost 65536 bins a model
// however small the tensor.
void MagnitudeCuts::select(BlockPipeline& pipeline) {
  if (!needs_select()) return;
  if (elements_ <= pipeline.chunk_capacity()) return select_one_chunk(pipeline);
  tally_pass(pipeline, 0);
  tally_pass(pipeline, 1);
}

void MagnitudeCuts::select_one_chunk(BlockPipeline& pipeline) {
  pipeline.reduce<std::vector<MagnitudeCut>>(
      [&](Chunk& chunk) {
        std::vector<MagnitudeCut> cuts = cuts_;
        std::vector<uint32_t> bits(chunk.count);
        for (size_t k = 0; k < cuts.size(); ++k) {
          if (!select_[k].needs_passes()) continue;
          for (size_t i = 0; i < chunk.count; ++i) bits[i] = magnitude_bits(chunk.models[k][i]);
          const uint64_t keep = select_[k].keep();
          std::nth_element(bits.begin(), bits.begin() + static_cast<long>(keep - 1), bits.end(),
                           std::greater<uint32_t>());
          MagnitudeCut& cut = cuts[k] = MagnitudeCut();
          cut.threshold = bits[keep - 1];
          const auto above = static_cast<uint64_t>(
              std::count_if(bits.begin(), bits.end(), [&](uint32_t v) { return v > cut.threshold; }));
          cut.equal_total = static_cast<uint64_t>(std::count(bits.begin(), bits.end(), cut.threshold));
          cut.equal_keep = keep - above;
        }
        return cuts;
      },
      [&](std::vector<MagnitudeCut>& cuts) { cuts_ = cuts; });
}

// Level 0 counts the high 16 bits of every |δ|, level 1 the low 16 bits of the entries
// under the prefix level 0 chose.
void MagnitudeCuts::tally_pass(BlockPipeline& pipeline, int level) {
  constexpr size_t kBins = RadixSelect::kBins;
  const size_t models = cuts_.size();
  const std::vector<uint64_t> totals = pipeline.tally(models * kBins, [&](Chunk& chunk, uint32_t* counts) {
    for (size_t k = 0; k < models; ++k) {
      if (!select_[k].needs_passes()) continue;
      uint32_t* h = counts + k * kBins;
      const float* d = chunk.models[k];
      if (level == 0) {
        for (size_t i = 0; i < chunk.count; ++i) ++h[magnitude_bits(d[i]) >> 16];
      } else {
        const uint32_t prefix = select_[k].prefix();
        for (size_t i = 0; i < chunk.count; ++i) {
          const uint32_t bits = magnitude_bits(d[i]);
          if ((bits >> 16) == prefix) ++h[bits & 0xFFFF];
        }
      }
    }
  });
  for (size_t k = 0; k < models; ++k) {
    if (!select_[k].needs_passes()) continue;
    const RadixSelect::Histogram h(totals.begin() + k * kBins, totals.begin() + (k + 1) * kBins);
    if (level == 0)
      select_[k].finish_high_pass(h);
    else
      cuts_[k] = select_[k].finish_low_pass(h);
  }
}

const SparsifyRule& magnitude_rule() {
  static const SparsifyRule rule{
      "magnitude", {Fact::MagnitudeCuts}, [](const SparsifyInput& in) -> std::unique_ptr<Sparsifier> {
        return std::make_unique<MagnitudeCuts>(in.densities, in.elements);
      }};
  return rule;
}

}  // namespace wasmerge
