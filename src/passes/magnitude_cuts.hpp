#pragma once
// Exact selections by magnitude over a whole tensor (SPEC §2, §6): each selection keeps the
// `keep` entries of largest |x| of one series of values, ties ordered by index (to the
// lower index, as TIES, or to the higher, as breadcrumbs' ascending ranks). A series is a
// model's δ by default, or values a method derives per chunk (sce: the variance across
// models; arcee_fusion: the importance). Each cut is found by an exact radix select
// (sparsify.hpp): two tally passes over the |x| bit patterns, or directly for a tensor of
// one chunk. Masking a chunk needs how many entries equal to a cut precede it, which this
// class provides as the pipeline's ordered count.
#include <cstdint>
#include <functional>
#include <vector>

#include "pipeline/block_pipeline.hpp"
#include "wasmerge/sparsify.hpp"

namespace wasmerge {

class MagnitudeCuts : public OrderedCount {
 public:
  struct Selection {
    size_t source = 0;            // which series
    uint64_t keep = 0;            // entries kept: the largest |x|
    bool ties_to_higher = false;  // at equal |x| the higher index ranks higher (else the lower)
    bool exact = false;           // the threshold is wanted even when every entry is kept
  };
  // A chunk's values of series `source`: a pointer into the chunk, or `buffer` (capacity
  // floats) filled with derived values. Called from the pool's threads.
  using Series = std::function<const float*(const Chunk&, size_t source, float* buffer)>;

  // One selection per model: floor(d_k·n) entries of model k's δ, ties to the lower index (TIES).
  MagnitudeCuts(const std::vector<double>& densities, uint64_t elements);
  MagnitudeCuts(std::vector<Selection> selections, uint64_t elements, Series series = nullptr);

  bool needs_select() const;  // some cut is neither "keep all" nor "keep none"
  void select(BlockPipeline& pipeline);
  // The ordered count a masking pass reads, or null when no cut splits a tie.
  const OrderedCount* ties() const;
  const MagnitudeCut& cut(size_t s) const { return cuts_[s]; }
  float threshold_value(size_t s) const;  // the cut's |x| as a float

  // The chunk's values of a series (see Series), in a buffer of this thread's own.
  const float* values(const Chunk& chunk, size_t source) const;
  // Zeroes what selection s drops from `values`, the chunk's values of its series.
  void mask(const Chunk& chunk, size_t s, float* values) const;
  // Flags (1: kept) of selection s for the chunk's values of its series.
  void flags(const Chunk& chunk, size_t s, const float* values, uint8_t* kept) const;

  size_t counters() const override { return cuts_.size(); }
  void count(const Chunk& chunk, uint64_t* counts) const override;

 private:
  void select_one_chunk(BlockPipeline& pipeline);
  void tally_pass(BlockPipeline& pipeline, int level);
  uint64_t ties_before(const Chunk& chunk, size_t s) const { return chunk.before ? chunk.before[s] : 0; }

  uint64_t elements_;
  std::vector<Selection> selections_;
  Series series_;
  std::vector<RadixSelect> select_;
  std::vector<MagnitudeCut> cuts_;
};

}  // namespace wasmerge
