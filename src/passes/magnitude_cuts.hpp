#pragma once
// TIES' trim over a whole tensor, one cut per model (SPEC §2): exactly floor(d·n) entries
// of largest |δ| survive, ties to the lower index. The cut is found by an exact radix
// select (sparsify.hpp): two tally passes over the |δ| bit patterns, or directly for a
// tensor of one chunk. Masking a chunk needs how many entries equal to the cut precede
// it, which this class provides as the pipeline's ordered count.
#include <cstdint>
#include <vector>

#include "passes/sparsifier.hpp"
#include "pipeline/block_pipeline.hpp"
#include "wasmerge/sparsify.hpp"

namespace wasmerge {

class MagnitudeCuts : public Sparsifier, public OrderedCount {
 public:
  MagnitudeCuts(const std::vector<double>& densities, uint64_t elements);

  bool needs_select() const;  // some cut is neither "keep all" nor "keep none"
  void select(BlockPipeline& pipeline);
  // The ordered count a masking pass reads, or null when no cut splits a tie.
  const OrderedCount* ties() const;

  // As a sparsifier: zeroes what model k's cut drops from a chunk's δ_k.
  bool has_passes() const override { return needs_select(); }
  void prepare(BlockPipeline& pipeline, bool) override { select(pipeline); }
  const OrderedCount* order() const override { return ties(); }
  void mask(const Chunk& chunk, size_t k, float* delta) const override;

  size_t counters() const override { return cuts_.size(); }
  void count(const Chunk& chunk, uint64_t* counts) const override;

 private:
  void select_one_chunk(BlockPipeline& pipeline);
  void tally_pass(BlockPipeline& pipeline, int level);

  uint64_t elements_;
  std::vector<RadixSelect> select_;
  std::vector<MagnitudeCut> cuts_;
};

}  // namespace wasmerge
